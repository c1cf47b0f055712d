// The file server's conversation with the controller: registerServer (server UUID,
// name, data address, backends with capacity), then a heartbeat every intervalMs
// (backend stats, the objects deleted and the copy tasks finished since the last one,
// the progress of the ones running, and the data requests in progress). A copy task
// that ends makes the next heartbeat go out at once (min_beat_gap after the last one),
// so that a close waiting for that copy does not wait for the period.
// Each answer may ask for objects to be deleted, which the link deletes on the I/O pool
// and confirms in the next heartbeat, and for objects to be copied here, which it hands
// to CopyTasks and whose results it reports in the next heartbeat (`copied`). An
// unreachable or refusing controller is retried with capped exponential backoff, logged
// once per change of state, and the server registers again once the controller answers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/metrics.h"
#include "common/rpc_client.h"
#include "common/uuid.h"
#include "fileserver/copy_tasks.h"
#include "fileserver/object_store.h"

namespace zhsm::fileserver {

struct ControllerLinkOptions {
  std::string controller;  // "host:port"
  Uuid server_id;
  std::string name;
  std::string address;     // data address clients use ("host:port")
  std::vector<ObjectStore*> backends;
  asio::thread_pool* pool = nullptr;  // stats and deletions run here
  Metrics* metrics = nullptr;
  // Runs the copy tasks the controller sends; null = none are taken (logged).
  std::shared_ptr<CopyTasks> copies;
  // Data requests in progress (DataServiceContext::in_flight), sent as `load`; null = 0.
  std::shared_ptr<std::atomic<uint32_t>> in_flight;
  // A finished copy task is reported this soon after the last heartbeat at the earliest.
  std::chrono::milliseconds min_beat_gap = std::chrono::milliseconds(50);
  std::chrono::milliseconds call_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds min_backoff = std::chrono::milliseconds(500);
  std::chrono::milliseconds max_backoff = std::chrono::seconds(30);
};

class ControllerLink : public std::enable_shared_from_this<ControllerLink> {
 public:
  // `io` runs the link's coroutine and its RPC client; nothing happens before start().
  ControllerLink(asio::io_context& io, ControllerLinkOptions options);
  ~ControllerLink();

  // Starts registering and heartbeating. Call once.
  void start();
  // Stops the link: no more calls; a call in flight is abandoned. Idempotent; call it
  // on a thread running `io`.
  void stop();

 private:
  enum class State { starting, up, down };
  struct Deleted {
    Uuid backend;
    Uuid object;
  };

  awaitable<void> run();
  // Stats of every backend, as BackendInfo fields; also refreshes the backend gauges.
  awaitable<std::vector<std::pair<ObjectStore*, BackendStats>>> collect_stats();
  // Performs the deletions an answer asks for and records them for the next heartbeat;
  // hands its copy tasks and bandwidth limit to CopyTasks.
  awaitable<void> apply(proto::HeartbeatReply::Reader reply);
  void set_state(State state, const std::string& reason);
  awaitable<void> sleep(std::chrono::milliseconds d);
  // Sleeps until interval_ after the last heartbeat, or min_beat_gap after it once
  // beat_soon() was called.
  awaitable<void> sleep_interval();
  // A copy result waits: the next heartbeat goes out soon. On the io thread.
  void beat_soon();

  asio::io_context& io_;
  ControllerLinkOptions options_;
  RpcClient client_;
  asio::steady_timer timer_;
  State state_ = State::starting;
  bool stopped_ = false;
  std::chrono::milliseconds interval_ = std::chrono::milliseconds(2000);
  std::chrono::steady_clock::time_point last_beat_{};
  bool sleeping_ = false;
  bool soon_ = false;
  std::vector<Deleted> deleted_;  // done, not yet confirmed to the controller
};

}  // namespace zhsm::fileserver
