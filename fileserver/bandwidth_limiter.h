// The bandwidth limit of a file server's copy tasks: one token bucket shared by every
// task, set from the controller's HeartbeatReply.bandwidthLimit. A task asks before
// each read how long to wait; the answer is computed, never slept here, so tests can
// check it without a clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace zhsm::fileserver {

class BandwidthLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Bytes per second; 0 = unlimited. A change starts the accounting afresh.
  // Thread-safe.
  void set_rate(uint64_t bytes_per_second);
  uint64_t rate() const;

  // Reserves `bytes` for a transfer about to start at `now`; returns how long the
  // caller must wait before starting it (zero when unlimited or when the bytes
  // reserved before have been paid for). The first transfer after an idle spell
  // starts at once; each one then delays the next by bytes / rate. Thread-safe.
  std::chrono::nanoseconds reserve(uint64_t bytes, Clock::time_point now);

  // Every delay reserve() has handed out, summed (for tests and the log).
  std::chrono::nanoseconds total_delay() const;

 private:
  mutable std::mutex mu_;  // guards everything below
  uint64_t rate_ = 0;
  Clock::time_point paid_until_{};  // when the bytes reserved so far are paid for
  std::chrono::nanoseconds total_delay_{0};
};

}  // namespace zhsm::fileserver
