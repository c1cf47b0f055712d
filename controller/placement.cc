// The "most free bytes among live backends" placement policy (see placement.h).
#include "controller/placement.h"

namespace zhsm {

bool server_live(int64_t last_heartbeat_ms, int64_t now_ms, int64_t heartbeat_timeout_ms) {
  return now_ms - last_heartbeat_ms <= heartbeat_timeout_ms;
}

std::optional<CopyInfo> choose_write_target(const std::vector<BackendCandidate>& candidates,
                                            int64_t now_ms, int64_t heartbeat_timeout_ms) {
  const BackendCandidate* best = nullptr;
  for (const auto& c : candidates) {
    if (!server_live(c.last_heartbeat_ms, now_ms, heartbeat_timeout_ms)) continue;
    if (c.free_bytes == 0) continue;
    if (!best || c.free_bytes > best->free_bytes ||
        (c.free_bytes == best->free_bytes && c.where.backend < best->where.backend))
      best = &c;
  }
  if (!best) return std::nullopt;
  CopyInfo out = best->where;
  out.state = proto::CopyState::TARGET;
  out.version = 0;
  return out;
}

}  // namespace zhsm
