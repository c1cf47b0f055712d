// Directory leases in ControllerHandler (controller/dir_leases.h): the wait of an add into a
// directory another mount holds the lease on, the grant in a mkdir's answer, and the
// mounts' lease poll, held until a recall for that mount comes or a third of the lease
// time has passed. One info line per recall, with how long the add waited.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "common/error.h"
#include "controller/controller_handler.h"

namespace zhsm {
namespace {

using Clock = DirLeases::Clock;

// A timer on the handler's strand that a wake from elsewhere cancels.
struct Alarm {
  explicit Alarm(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;

  // The wake for DirLeases: cancels the wait on the timer's executor (the post runs after
  // the coroutine suspended on it, since both run on one strand).
  static DirLeases::Wake waking(const std::shared_ptr<Alarm>& alarm) {
    return [alarm] { asio::post(alarm->timer.get_executor(), [alarm] { alarm->timer.cancel(); }); };
  }
  awaitable<void> wait_until(Clock::time_point when) {
    timer.expires_at(when);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
};

std::vector<uint64_t> ids(capnp::List<uint64_t>::Reader list, size_t max, const char* what) {
  if (list.size() > max)
    throw Error(Errc::invalid, fmt::format("leases: {} {} directories (at most {})", list.size(),
                                           what, max));
  std::vector<uint64_t> out;
  out.reserve(list.size());
  for (uint64_t d : list) out.push_back(d);
  return out;
}

}  // namespace

awaitable<void> ControllerHandler::before_add(uint64_t dir) {
  DirLeases& leases = service_.leases();
  if (!leases.enabled()) co_return;
  std::shared_ptr<Alarm> alarm;
  const auto start = Clock::now();
  bool waited = false;
  for (;;) {
    if (!alarm) alarm = std::make_shared<Alarm>(co_await asio::this_coro::executor);
    auto until = leases.begin_add(dir, client_id_, Clock::now(), Alarm::waking(alarm));
    if (!until) break;
    waited = true;
    co_await alarm->wait_until(*until);
    alarm.reset();  // a late wake of this round must not cut the next one short
  }
  if (!waited) co_return;
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  service_.metrics().add("zhsm_controller_lease_wait_seconds_sum", secs);
  spdlog::info("event=lease_recalled dir={} client={} peer={} waited_ms={:.3f}", dir, client_id_,
               peer_, secs * 1000);
}

uint32_t ControllerHandler::grant_lease(uint64_t dir, uint64_t since) {
  DirLeases& leases = service_.leases();
  if (!leases.grant(dir, client_id_, since, Clock::now())) return 0;
  return static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(leases.lease()).count());
}

awaitable<void> ControllerHandler::lease_poll(proto::Leases::Reader req,
                                              proto::Response::Builder resp) {
  constexpr size_t kMaxDirs = 65536;
  if (client_id_ == 0) throw Error(Errc::invalid, "leases: no hello on this connection");
  DirLeases& leases = service_.leases();
  std::vector<uint64_t> keep = ids(req.getKeep(), kMaxDirs, "kept");
  std::vector<uint64_t> release = ids(req.getRelease(), kMaxDirs, "released");
  std::vector<uint64_t> drop = leases.poll(client_id_, keep, release, Clock::now());
  if (drop.empty() && !keep.empty() && leases.enabled()) {
    auto alarm = std::make_shared<Alarm>(co_await asio::this_coro::executor);
    const uint64_t id = leases.wait_recall(client_id_, Alarm::waking(alarm));
    // A recall between the poll above and the wait registered here: answer it at once.
    drop = leases.recalled(client_id_);
    if (drop.empty()) co_await alarm->wait_until(Clock::now() + leases.lease() / 3);
    leases.stop_waiting(client_id_, id);
    drop = leases.recalled(client_id_);
  }
  auto out = resp.initLeases();
  auto list = out.initDrop(static_cast<unsigned>(drop.size()));
  for (size_t i = 0; i < drop.size(); ++i) list.set(static_cast<unsigned>(i), drop[i]);
  out.setLeaseMs(static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(leases.lease()).count()));
  if (!drop.empty())
    spdlog::debug("event=lease_drop client={} peer={} dirs={}", client_id_, peer_, drop.size());
}

}  // namespace zhsm
