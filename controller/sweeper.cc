// The housekeeping loop (see sweeper.h).
#include "controller/sweeper.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/error.h"
#include "controller/placement.h"
#include "controller/replicator.h"

namespace zhsm {

Sweeper::Sweeper(asio::io_context& io, ControllerService& service,
                 std::chrono::milliseconds interval)
    : io_(io), service_(service), interval_(interval), timer_(io) {}

void Sweeper::start() {
  asio::co_spawn(io_, [this] { return loop(); }, asio::detached);
}

void Sweeper::stop() {
  stopped_ = true;
  timer_.cancel();
}

awaitable<void> Sweeper::loop() {
  while (!stopped_) {
    co_await sweep_once();
    if (stopped_) break;
    timer_.expires_after(interval_);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

awaitable<void> Sweeper::sweep_once() {
  MetaStore& store = service_.store();
  try {
    SweepResult swept = co_await service_.db([&] { return store.sweep(); });
    if (swept.expired_tokens || swept.reclaimed)
      spdlog::info("event=sweep expired_tokens={} reclaimed={} open_tokens={}",
                   swept.expired_tokens, swept.reclaimed, swept.open_tokens);
    service_.metrics().set("zhsm_controller_open_tokens", static_cast<double>(swept.open_tokens));
    co_await service_.sweep_locks();

    auto servers = co_await service_.db([&] { return store.servers(); });
    const int64_t now = static_cast<int64_t>(now_ms());
    const int64_t timeout = service_.options().heartbeat_timeout_ms;
    std::set<Uuid> live;
    for (const auto& s : servers) {
      bool is_live = server_live(s.last_heartbeat_ms, now, timeout);
      bool was_live = live_.count(s.id) > 0;
      if (is_live) live.insert(s.id);
      if (is_live && !was_live)
        spdlog::info("event=server_live server={} name={} address={}", s.id.str(), s.name,
                     s.address);
      else if (!is_live && (was_live || first_))
        spdlog::warn("event=server_failed server={} name={} address={} silent_ms={}", s.id.str(),
                     s.name, s.address, now - s.last_heartbeat_ms);
    }
    // A server that came or went changes where copies can be made: a replicator pass.
    if (!first_ && live != live_)
      if (Replicator* r = service_.replicator()) r->poke();
    live_ = std::move(live);
    first_ = false;
    service_.metrics().set("zhsm_controller_live_servers", static_cast<double>(live_.size()));
  } catch (const Error& e) {
    spdlog::warn("event=sweep_failed code={} reason=\"{}\"", errc_name(e.code()), e.what());
  } catch (const std::exception& e) {
    spdlog::error("event=sweep_failed code=internal reason=\"{}\"", e.what());
  }
}

}  // namespace zhsm
