// Housekeeping every few seconds, on the controller's io_context: expire tokens and
// reclaim orphaned inodes (MetaStore::sweep), drop the locks of expired tokens and of
// clients gone past the grace time (ControllerService::sweep_locks), watch file servers
// go silent or come back (one log line per change), and refresh the open-token and
// live-server gauges.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>

#include "common/asio.h"
#include "common/uuid.h"
#include "controller/controller_service.h"

namespace zhsm {

class Sweeper {
 public:
  // `io` and `service` must outlive the sweeper.
  Sweeper(asio::io_context& io, ControllerService& service, std::chrono::milliseconds interval);

  // Starts the periodic loop (the first sweep runs at once). Call once.
  void start();
  // Stops after the sweep in progress, if any. Idempotent; call on the io_context's thread.
  void stop();

 private:
  awaitable<void> loop();
  awaitable<void> sweep_once();

  asio::io_context& io_;
  ControllerService& service_;
  const std::chrono::milliseconds interval_;
  asio::steady_timer timer_;
  bool stopped_ = false;
  bool first_ = true;
  std::set<Uuid> live_;  // servers live at the last sweep; only touched on the io thread
};

}  // namespace zhsm
