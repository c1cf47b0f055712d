// Placement of new data: which backend a new chunk of a file goes to. Today's policy:
// among the backends of live servers (heartbeat within the timeout), the one with the
// most free bytes. File resolve chains (issue 4) will replace this.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "controller/meta_types.h"

namespace zhsm {

struct BackendCandidate {
  CopyInfo where;                 // backend and server identity and address
  uint64_t free_bytes = 0;
  int64_t last_heartbeat_ms = 0;  // of the backend's server
};

// Whether a server that last reported at `last_heartbeat_ms` counts as live at `now_ms`.
bool server_live(int64_t last_heartbeat_ms, int64_t now_ms, int64_t heartbeat_timeout_ms);

// The backend new data goes to, or nullopt when no live backend has free space. Ties go to
// the lower backend UUID so the choice is deterministic. Pure.
std::optional<CopyInfo> choose_write_target(const std::vector<BackendCandidate>& candidates,
                                            int64_t now_ms, int64_t heartbeat_timeout_ms);

}  // namespace zhsm
