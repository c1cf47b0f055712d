// The file server's copy tasks: the controller asks it (HeartbeatReply.copyObjects) to
// fetch a committed object from another file server and install it on one of its own
// backends, byte-exact and with the same head. CopyTasks queues them (a task already
// queued or running is not queued twice), runs a few at once, reads each object from
// its sources in order with readObject (expectVersion = the task's version) within a
// shared bandwidth limit, installs it through ObjectStore::install_copy, and keeps the
// results until a heartbeat has carried them (`copied`), like deletions.
// See doc/protocol.md, "Copies".
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "capnp/zhsm.capnp.h"
#include "common/asio.h"
#include "common/error.h"
#include "common/metrics.h"
#include "common/sha256.h"
#include "common/uuid.h"
#include "fileserver/bandwidth_limiter.h"
#include "fileserver/object_store.h"

namespace zhsm::fileserver {

struct CopyTasksOptions {
  std::map<Uuid, ObjectStore*> backends;  // destination backends, by UUID
  asio::thread_pool* pool = nullptr;      // disk work runs here
  Metrics* metrics = nullptr;
  size_t max_running = 2;                 // tasks copying at once
  std::chrono::milliseconds call_timeout = std::chrono::seconds(30);  // per readObject
};

// The outcome of one task, as the next heartbeat reports it.
struct CopyOutcome {
  Uuid backend;
  Uuid uuid;
  uint64_t version = 0;
  bool ok = false;
  Digest sha256{};          // ok: of the installed data
  Errc code = Errc::ok;     // not ok: why
  std::string message;      // not ok: with context (which source, what failed)
};

// A task copying now, as the heartbeat's `progress` reports it.
struct CopyRunning {
  Uuid backend;
  Uuid uuid;
  uint64_t bytes_done = 0;
  uint64_t running_ms = 0;
};

// Writes `outcome` into a heartbeat's CopyResult.
void fill_copy_result(const CopyOutcome& outcome, proto::CopyResult::Builder out);

class CopyTasks : public std::enable_shared_from_this<CopyTasks> {
 public:
  // Tasks and their RPC clients run on `io`. Everything in `options` must outlive
  // the last task (main joins the pool before the stores go).
  CopyTasks(asio::io_context& io, CopyTasksOptions options);
  ~CopyTasks();
  CopyTasks(const CopyTasks&) = delete;
  CopyTasks& operator=(const CopyTasks&) = delete;

  // Queues a copy of `task` and starts it when fewer than max_running run. Returns
  // false when a task for the same backend, object and version is already queued or
  // running (nothing changes). A malformed task (bad UUID, digest or token shape, no
  // source) becomes a failed result at once. Copies what it needs from `task`.
  // Thread-safe.
  bool submit(proto::CopyTask::Reader task);

  // The bandwidth for all copy tasks together, bytes per second; 0 = unlimited.
  // Thread-safe.
  void set_bandwidth_limit(uint64_t bytes_per_second);

  // Tasks queued or running. Thread-safe.
  uint32_t active() const;
  // The tasks copying now, with the bytes they received so far. Thread-safe.
  std::vector<CopyRunning> running() const;
  // Called (on the io thread, without locks held) each time a task ended and its result
  // waits for a heartbeat: the link sends one soon. Set before the first submit.
  void on_result(std::function<void()> callback) { on_result_ = std::move(callback); }

  // The finished tasks not yet confirmed, oldest first, at most `max` of them. They
  // stay until confirm() removes them. Thread-safe.
  std::vector<CopyOutcome> results(size_t max) const;
  // Removes the oldest `n` results: a heartbeat carrying them was answered.
  // Thread-safe.
  void confirm(size_t n);

  // Stops taking tasks; running ones give up at their next read. Idempotent.
  void stop();

  const BandwidthLimiter& limiter() const { return limiter_; }

 private:
  struct Source {
    Uuid backend;
    std::string name;     // backend name, for messages
    std::string address;  // "host:port" of its file server
  };
  struct Task;
  using Key = std::tuple<Uuid, Uuid, uint64_t>;  // backend, object, version

  // Starts queued tasks while fewer than max_running run. Requires mu_ held.
  void start_queued();
  awaitable<void> run(std::shared_ptr<Task> task);
  // Copies the object; returns its outcome (never throws).
  awaitable<CopyOutcome> copy(Task& task);
  // Fetches the object from one source and installs it; throws Error.
  awaitable<CopyInstalled> copy_from(Task& task, const Source& source, ObjectStore& store);
  bool stopped() const;

  asio::io_context& io_;
  CopyTasksOptions options_;
  BandwidthLimiter limiter_;
  mutable std::mutex mu_;  // guards everything below
  std::deque<std::shared_ptr<Task>> queued_;
  size_t running_ = 0;
  std::set<Key> active_;   // queued or running
  std::vector<std::shared_ptr<Task>> running_tasks_;
  std::function<void()> on_result_;
  std::vector<CopyOutcome> results_;
  bool stopped_ = false;
};

}  // namespace zhsm::fileserver
