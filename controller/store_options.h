// Tunables every MetaStore implementation shares (the PostgreSQL store and the in-memory
// fake): liveness and lifetime limits from the controller's flags, and the clock. Free of
// libpqxx so that code outside controller/db/ can fill them in.
#pragma once

#include <cstdint>
#include <functional>

namespace zhsm {

struct StoreOptions {
  int64_t heartbeat_timeout_ms = 10000;  // a server silent this long is failed
  int64_t token_lifetime_ms = 300000;    // a token lives this long without renewal
  int64_t client_recent_ms = 600000;     // clients seen this recently count in cluster status
  std::function<int64_t()> clock_ns;     // wall clock; the system clock when empty
};

}  // namespace zhsm
