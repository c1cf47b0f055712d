// What every controller connection shares: the metadata store, the pool of database
// worker threads, the cluster key for signing tokens, the metrics, the settings that
// shape answers, and the in-memory lock table with the client presence it depends on. ControllerHandler (one per connection) calls the store through db(),
// which moves the blocking call onto the pool and records its latency.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/asio.h"
#include "common/metrics.h"
#include "common/rpc_server.h"
#include "common/run_blocking.h"
#include "controller/client_presence.h"
#include "controller/dir_leases.h"
#include "controller/group_commit.h"
#include "controller/lock_table.h"
#include "controller/meta_store.h"

namespace zhsm {

class Replicator;
class PlacementStore;

struct ServiceOptions {
  std::string cluster_key;             // HMAC key for tokens (common/token.h)
  int64_t token_lifetime_ms = 300000;  // told to clients in hello
  int64_t heartbeat_timeout_ms = 10000;  // a server silent this long shows as failed
  uint32_t heartbeat_interval_ms = 2000;
  // A client whose last connection closed this long ago, without a hello resuming it,
  // loses its locks (client_presence.h).
  int64_t client_grace_ms = 10000;
  // commitData calls one transaction may carry (group_commit.h); 1: each alone.
  size_t commit_group = 64;
  // A mount's lease on a directory it made (dir_leases.h); zero: none.
  std::chrono::milliseconds dir_lease{5000};
};

class ControllerService {
 public:
  // `store`, `pool` and `metrics` must outlive the service. Declares the metrics.
  ControllerService(MetaStore& store, asio::thread_pool& pool, Metrics& metrics,
                    ServiceOptions options);

  MetaStore& store() { return store_; }
  Metrics& metrics() { return metrics_; }
  const ServiceOptions& options() const { return options_; }
  LockTable& locks() { return locks_; }
  // commitData goes through it: concurrent commits share a transaction (group_commit.h).
  GroupCommit& group_commit() { return group_commit_; }
  ClientPresence& clients() { return clients_; }
  DirLeases& leases() { return leases_; }
  // The replicator and its store, when the store keeps chains (PostgreSQL); null otherwise,
  // and the chain requests answer notSupported. Set once before the server starts.
  void set_replicator(Replicator* replicator, PlacementStore* placement) {
    replicator_ = replicator;
    placement_ = placement;
  }
  Replicator* replicator() { return replicator_; }
  PlacementStore* placement() { return placement_; }

  // A handler for a new connection (RpcServer's HandlerFactory).
  std::shared_ptr<RpcHandler> make_handler(const std::string& peer);

  // Lock housekeeping (service_locks.cc). The drops log one line and count the metric
  // when they dropped something. sweep_locks() is the sweeper's part: it drops the locks
  // of clients gone for longer than the grace time and of tokens that were released or
  // expired (the store no longer records them, or their expiry has passed).
  void drop_token_locks(uint64_t token, std::string_view reason);
  void drop_client_locks(uint64_t client, std::string_view reason);
  awaitable<void> sweep_locks();

  // Runs fn() (a blocking store call) on the database pool and resumes on the caller's
  // executor with its result or exception. Records db latency.
  template <class F>
  awaitable<std::invoke_result_t<F&>> db(F fn) {
    auto timed = [this, &fn]() -> std::invoke_result_t<F&> {
      struct Record {
        ControllerService* self;
        std::chrono::steady_clock::time_point start;
        ~Record() { self->record_db_time(std::chrono::steady_clock::now() - start); }
      } record{this, std::chrono::steady_clock::now()};
      return fn();
    };
    co_return co_await run_blocking(pool_, timed);
  }

 private:
  void record_db_time(std::chrono::steady_clock::duration elapsed);

  MetaStore& store_;
  asio::thread_pool& pool_;
  Metrics& metrics_;
  const ServiceOptions options_;
  LockTable locks_;
  ClientPresence clients_;
  GroupCommit group_commit_;
  DirLeases leases_;
  Replicator* replicator_ = nullptr;
  PlacementStore* placement_ = nullptr;
};

}  // namespace zhsm
