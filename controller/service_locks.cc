// Lock housekeeping of ControllerService (see controller_service.h): dropping the locks of
// a released or expired token and of a client that went away, with one log line each.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "controller/controller_service.h"
#include "controller/meta_checks.h"

namespace zhsm {

namespace {

// One metric update and one log line for `n` locks dropped (nothing when none were held).
void count_dropped(Metrics& metrics, size_t n, std::string_view reason, std::string_view holder,
                   uint64_t id) {
  if (n == 0) return;
  metrics.add("zhsm_controller_locks_dropped_total", static_cast<double>(n),
              fmt::format("reason=\"{}\"", reason));
  spdlog::info("event=locks_dropped reason={} {}={} count={}", reason, holder, id, n);
}

}  // namespace

void ControllerService::drop_token_locks(uint64_t token, std::string_view reason) {
  count_dropped(metrics_, locks_.drop_token(token), reason, "token", token);
}

void ControllerService::drop_client_locks(uint64_t client, std::string_view reason) {
  count_dropped(metrics_, locks_.drop_client(client), reason, "client", client);
}

awaitable<void> ControllerService::sweep_locks() {
  const auto grace = std::chrono::milliseconds(options_.client_grace_ms);
  for (uint64_t client : clients_.take_gone(std::chrono::steady_clock::now(), grace))
    drop_client_locks(client, "client_gone");

  // A lock may outlive its token when a release raced the request that took it; the
  // store's word on which tokens still exist settles it.
  std::vector<uint64_t> tokens = locks_.tokens();
  for (size_t first = 0; first < tokens.size(); first += kSweepBatch) {
    std::vector<uint64_t> batch(
        tokens.begin() + static_cast<std::ptrdiff_t>(first),
        tokens.begin() + static_cast<std::ptrdiff_t>(std::min(tokens.size(), first + kSweepBatch)));
    auto lookup = [this, &batch] { return store_.find_tokens(batch); };
    std::vector<TokenInfo> found = co_await db(lookup);
    const uint64_t now = now_ms();
    std::set<uint64_t> live;
    for (const auto& t : found)
      if (t.expires_ms >= now) live.insert(t.token_id);
    for (uint64_t token : batch)
      if (!live.count(token)) drop_token_locks(token, "token_gone");
  }
}

}  // namespace zhsm
