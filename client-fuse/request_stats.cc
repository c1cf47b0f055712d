#include "client-fuse/request_stats.h"

namespace zhsm::fuse {

void RequestStats::add(const char* name, std::chrono::steady_clock::duration took) noexcept {
  const auto ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
  Slot* target = &other_;
  for (Slot& s : slots_) {
    const char* held = s.name.load(std::memory_order_acquire);
    if (held == nullptr) {
      const char* expected = nullptr;
      if (s.name.compare_exchange_strong(expected, name, std::memory_order_acq_rel) ||
          expected == name) {
        target = &s;
        break;
      }
      continue;  // another name took this slot first
    }
    if (held == name) {
      target = &s;
      break;
    }
  }
  target->count.fetch_add(1, std::memory_order_relaxed);
  target->ns.fetch_add(ns, std::memory_order_relaxed);
}

std::vector<RequestStats::Row> RequestStats::rows() const {
  std::vector<Row> out;
  auto account = [&](const char* name, const Slot& s) {
    const uint64_t count = s.count.load(std::memory_order_relaxed);
    if (count == 0) return;
    const double seconds = static_cast<double>(s.ns.load(std::memory_order_relaxed)) / 1e9;
    for (Row& r : out)
      if (r.name == name) {
        r.count += count;
        r.seconds += seconds;
        return;
      }
    out.push_back(Row{name, count, seconds});
  };
  for (const Slot& s : slots_)
    if (const char* name = s.name.load(std::memory_order_acquire)) account(name, s);
  account("other", other_);
  return out;
}

}  // namespace zhsm::fuse
