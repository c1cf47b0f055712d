// BandwidthLimiter: a token bucket for copy tasks (see bandwidth_limiter.h).
#include "fileserver/bandwidth_limiter.h"

#include <algorithm>

namespace zhsm::fileserver {

void BandwidthLimiter::set_rate(uint64_t bytes_per_second) {
  std::lock_guard lock(mu_);
  if (bytes_per_second == rate_) return;
  rate_ = bytes_per_second;
  paid_until_ = Clock::time_point{};
}

uint64_t BandwidthLimiter::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

std::chrono::nanoseconds BandwidthLimiter::reserve(uint64_t bytes, Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (rate_ == 0) return std::chrono::nanoseconds(0);
  auto start = std::max(paid_until_, now);
  auto cost = std::chrono::nanoseconds(static_cast<int64_t>(
      static_cast<long double>(bytes) * 1e9L / static_cast<long double>(rate_)));
  paid_until_ = start + cost;
  auto delay = std::chrono::duration_cast<std::chrono::nanoseconds>(start - now);
  total_delay_ += delay;
  return delay;
}

std::chrono::nanoseconds BandwidthLimiter::total_delay() const {
  std::lock_guard lock(mu_);
  return total_delay_;
}

}  // namespace zhsm::fileserver
