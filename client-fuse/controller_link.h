// ControllerLink: the client's one connection to the controller, with the retry
// policy: calls that are safe to repeat (lookup, getattr, readdir, open of an
// existing file, commitData, renew, release ...) are retried with backoff when
// the transport failed (disconnected, timeout, overloaded); calls that create or
// remove something are tried once, and a transport failure is the caller's error.
// The controller ties the client id from hello to the connection, so after a
// transport failure the next call first says hello again on the new connection,
// resuming the client id it had (so its tokens and locks stay its own).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "client-fuse/dir_leases.h"
#include "client-fuse/fresh_dirs.h"
#include "client-fuse/request_stats.h"
#include "common/metrics.h"
#include "common/rpc_client.h"

namespace zhsm::fuse {

enum class Retry { once, idempotent };

// The name a request adds to a directory, and the one it removes (0: none).
struct NameChange {
  uint64_t add_dir = 0;
  std::string add_name;
  uint64_t removed_dir = 0;
  std::string removed_name;
};
NameChange name_change(proto::Request::Reader request);

class ControllerLink {
 public:
  // `client_name` is what hello tells the controller (empty: never re-hello).
  ControllerLink(asio::io_context& io, std::string address, std::string client_name = {});

  // Blocking call from a FUSE worker (never from the io thread). Returns the
  // reply when the controller answered success; throws zhsm::Error otherwise
  // (after the retries `retry` allows). Thread-safe.
  Reply call(const RequestFiller& fill, Retry retry,
             std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // The client id the controller gave (set after the first hello); a hello again asks
  // to resume it and records what the controller answers.
  void set_client_id(uint64_t id) {
    client_id_ = id;
    hello_connection_ = rpc_.connection_id();
  }
  uint64_t client_id() const { return client_id_; }
  // A count that moves when a call that may change names or attributes (everything but
  // reads, opens without truncation, releases, locks and renewals) is sent, and again
  // when its answer (or failure) is back. What the mount learned from the controller
  // under one value is still what the controller holds, as far as this mount's own
  // changes go, while the value stays the same (statahead.h).
  uint64_t changes() const { return changes_.load(std::memory_order_acquire); }
  // Where the directories a successful answer reports as touched are noted (null: nowhere).
  // Set before the first call.
  void set_fresh_dirs(FreshDirs* fresh) { fresh_dirs_ = fresh; }
  // Where the names this mount adds to and removes from directories are noted, and the
  // leases mkdir answers grant (dir_leases.h), with the keeper to wake for a grant (null:
  // nowhere). Set before the first call.
  void set_leases(DirLeases* leases, LeaseKeeper* keeper) {
    leases_ = leases;
    lease_keeper_ = keeper;
  }
  // The connection in use (RpcClient::connection_id).
  uint64_t connection_id() const { return rpc_.connection_id(); }
  // Where every call is counted, by request kind, with the time this mount waited for it,
  // and where failed calls are counted by code (null: nowhere). Set before the first call.
  void set_metrics(RequestStats* calls, Metrics* failures) {
    calls_ = calls;
    metrics_ = failures;
  }

  const std::string& address() const { return rpc_.address(); }
  void close() { rpc_.close(); }

 private:
  void rehello();
  // Tells the leases what a call did to names (reply null: it failed).
  void note_names(const NameChange& change, const Reply* reply,
                  std::chrono::steady_clock::time_point asked);
  Reply call_counted(const RequestFiller& fill, Retry retry, std::chrono::milliseconds timeout);

  RpcClient rpc_;
  const std::string client_name_;
  std::atomic<bool> need_hello_{false};
  std::atomic<uint64_t> client_id_{0};
  // The connection the last hello went over: a call on another one (the connection
  // broke while idle and was replaced) says hello again first.
  std::atomic<uint64_t> hello_connection_{0};
  std::atomic<uint64_t> changes_{0};
  FreshDirs* fresh_dirs_ = nullptr;
  DirLeases* leases_ = nullptr;
  LeaseKeeper* lease_keeper_ = nullptr;
  RequestStats* calls_ = nullptr;
  Metrics* metrics_ = nullptr;
};

// Whether a request may change a name or attributes at the controller.
bool may_change(proto::Request::Reader request);

// Throws Error(internal) unless the successful reply carries `which`.
void expect_response(const Reply& reply, proto::Response::Which which);

}  // namespace zhsm::fuse
