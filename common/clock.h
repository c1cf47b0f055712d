// Wall-clock helpers: zhsm keeps times as nanoseconds or milliseconds since the
// unix epoch (int64), the way they travel on the wire and sit in PostgreSQL.
#pragma once

#include <chrono>
#include <cstdint>

namespace zhsm {

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline uint64_t now_ms() { return static_cast<uint64_t>(now_ns() / 1000000); }

}  // namespace zhsm
