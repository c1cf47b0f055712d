// The file server's answer to clients: one DataService per client connection serves
// readObject, beginWrite, writeObject, truncateObject, commitWrite and abortWrite.
// It checks every request (token MAC, expiry and mode; backend; UUID shape; piece
// size; crc32) before any disk work, runs the disk work on the I/O thread pool, and
// keeps the connection's write sessions: their ids mean something only on this
// connection, and they are aborted when it closes or when one sits idle too long.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/asio.h"
#include "common/metrics.h"
#include "common/rpc_server.h"
#include "common/uuid.h"
#include "fileserver/object_store.h"

namespace zhsm::fileserver {

// What every connection's service shares. Everything it points to must outlive the
// I/O pool's last task (main joins the pool before the stores go).
struct DataServiceContext {
  std::string cluster_key;
  std::map<Uuid, ObjectStore*> backends;  // by backend UUID
  asio::thread_pool* pool = nullptr;      // disk work runs here
  Metrics* metrics = nullptr;
  std::chrono::milliseconds session_idle_timeout = std::chrono::minutes(10);
  // Each open session holds a temporary file open; past this many on one connection
  // beginWrite answers `overloaded`.
  size_t max_sessions_per_connection = 1024;
  // Data requests in progress on the whole server (the heartbeat's `load`); shared with
  // the controller link. Null: not counted.
  std::shared_ptr<std::atomic<uint32_t>> in_flight;
};

class DataService : public RpcHandler, public std::enable_shared_from_this<DataService> {
 public:
  DataService(std::shared_ptr<const DataServiceContext> context, std::string peer);
  ~DataService() override;

  awaitable<void> handle(proto::Request::Reader req, proto::Response::Builder resp) override;
  void on_close() override;

 private:
  struct OpenSession {
    std::shared_ptr<WriteSession> session;
    ObjectStore* store = nullptr;
    std::chrono::steady_clock::time_point last_used;
    int busy = 0;  // operations in flight; a busy session is never idle
    // The session's disk work runs here, one piece at a time in arrival order:
    // a client sends writes without waiting (client-fuse/write_pipeline.h), and
    // overlapping writes must land in the order they were sent.
    std::optional<asio::strand<asio::thread_pool::executor_type>> order;
  };
  class Use;  // marks a session busy for the length of one operation

  awaitable<void> dispatch(proto::Request::Reader req, proto::Response::Builder resp);
  awaitable<void> read_object(proto::ReadObject::Reader req, proto::Response::Builder resp);
  awaitable<void> begin_write(proto::BeginWrite::Reader req, proto::Response::Builder resp);
  awaitable<void> write_object(proto::WriteObject::Reader req, proto::Response::Builder resp);
  awaitable<void> truncate_object(proto::TruncateObject::Reader req,
                                  proto::Response::Builder resp);
  awaitable<void> commit_write(proto::CommitWrite::Reader req, proto::Response::Builder resp);
  awaitable<void> abort_write(proto::AbortWrite::Reader req, proto::Response::Builder resp);

  // Checks MAC, expiry and mode; returns the token's file (FSID).
  Uuid check_token(proto::Token::Reader token, bool write) const;
  ObjectStore* backend(capnp::Data::Reader id) const;
  OpenSession& session(uint64_t id);
  // Forgets session `id` if the store has ended it (or `always`).
  void forget(uint64_t id, bool always);
  // Runs `work` (blocking) on the I/O pool with session `sid` marked busy, then
  // forgets the session if it was closed meanwhile; rethrows what work threw.
  template <class F>
  awaitable<std::invoke_result_t<F&>> in_session(uint64_t sid, F& work);
  void start_idle_reaper(const asio::any_io_executor& executor);
  awaitable<void> reap_idle();
  // Hands the session's abort to the I/O pool (on_close cannot wait for it).
  void abort_in_background(const OpenSession& s);

  std::shared_ptr<const DataServiceContext> context_;
  std::string peer_;
  std::unordered_map<uint64_t, OpenSession> sessions_;  // only on the connection's strand
  std::unique_ptr<asio::steady_timer> idle_timer_;
  bool closed_ = false;
};

}  // namespace zhsm::fileserver
