// ControllerLink: registration, heartbeats and deletions (see controller_link.h).
#include "fileserver/controller_link.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "fileserver/fileserver_metrics.h"
#include "common/run_blocking.h"

namespace zhsm::fileserver {
namespace {

constexpr size_t kMaxDeletedPerHeartbeat = 10000;
constexpr size_t kMaxCopiedPerHeartbeat = 10000;
constexpr auto kDefaultInterval = std::chrono::milliseconds(2000);

using StatsList = std::vector<std::pair<ObjectStore*, BackendStats>>;

void fill_backends(capnp::List<proto::BackendInfo>::Builder out, const StatsList& stats) {
  for (unsigned i = 0; i < stats.size(); ++i) {
    auto [store, s] = stats[i];
    auto b = out[i];
    b.setId(store->id().data());
    b.setName(store->identity().name);
    b.setTier(store->identity().tier);
    b.setPath(store->root().string());
    b.setTotalBytes(s.total_bytes);
    b.setFreeBytes(s.free_bytes);
    b.setUsedBytes(s.used_bytes);
    b.setObjectCount(s.object_count);
    b.setDeviceId(s.device_id);
  }
}

}  // namespace

ControllerLink::ControllerLink(asio::io_context& io, ControllerLinkOptions options)
    : io_(io), options_(std::move(options)), client_(io, options_.controller), timer_(io) {}

ControllerLink::~ControllerLink() = default;

void ControllerLink::start() {
  if (options_.copies) {
    std::weak_ptr<ControllerLink> weak = weak_from_this();
    options_.copies->on_result([weak, &io = io_] {
      asio::post(io, [weak] {
        if (auto self = weak.lock()) self->beat_soon();
      });
    });
  }
  asio::co_spawn(io_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void ControllerLink::beat_soon() {
  soon_ = true;
  if (sleeping_) timer_.cancel();
}

awaitable<void> ControllerLink::sleep_interval() {
  sleeping_ = true;
  auto until = last_beat_ + interval_;
  while (!stopped_) {
    if (soon_) {
      soon_ = false;
      until = std::min(until, last_beat_ + options_.min_beat_gap);
    }
    if (std::chrono::steady_clock::now() >= until) break;
    timer_.expires_at(until);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  sleeping_ = false;
}

void ControllerLink::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  client_.close();
}

awaitable<void> ControllerLink::sleep(std::chrono::milliseconds d) {
  timer_.expires_after(d);
  boost::system::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void ControllerLink::set_state(State state, const std::string& reason) {
  if (state == state_) return;
  state_ = state;
  options_.metrics->set(metric::kControllerConnected, state == State::up ? 1 : 0);
  if (state == State::up)
    spdlog::info("event=registered controller={} server_id={} name={} address={} backends={}",
                 options_.controller, options_.server_id.str(), options_.name, options_.address,
                 options_.backends.size());
  else
    spdlog::warn("event=controller_unreachable controller={} reason=\"{}\" retry=backoff",
                 options_.controller, reason);
}

awaitable<StatsList> ControllerLink::collect_stats() {
  auto work = [this] {
    StatsList out;
    for (auto* store : options_.backends) out.emplace_back(store, store->stats());
    return out;
  };
  StatsList stats = co_await run_blocking(*options_.pool, work);
  auto& m = *options_.metrics;
  for (auto& [store, s] : stats) {
    auto l = metric::label("backend", store->identity().name);
    m.set(metric::kBackendFree, static_cast<double>(s.free_bytes), l);
    m.set(metric::kBackendUsed, static_cast<double>(s.used_bytes), l);
    m.set(metric::kBackendTotal, static_cast<double>(s.total_bytes), l);
    m.set(metric::kBackendObjects, static_cast<double>(s.object_count), l);
  }
  co_return stats;
}

awaitable<void> ControllerLink::apply(proto::HeartbeatReply::Reader reply) {
  uint32_t ms = reply.getIntervalMs();
  interval_ = ms == 0 ? kDefaultInterval
                      : std::clamp(std::chrono::milliseconds(ms), std::chrono::milliseconds(100),
                                   std::chrono::milliseconds(60000));
  if (auto& copies = options_.copies) {
    copies->set_bandwidth_limit(reply.getBandwidthLimit());
    for (auto task : reply.getCopyObjects()) copies->submit(task);
  } else if (reply.getCopyObjects().size() > 0) {
    spdlog::warn("event=copy_tasks_ignored count={} reason=\"this server runs no copy tasks\"",
                 reply.getCopyObjects().size());
  }
  auto list = reply.getDeleteObjects();
  if (list.size() == 0) co_return;

  std::vector<Deleted> wanted;
  for (auto a : list) {
    auto backend = Uuid::from_data(a.getBackend());
    auto object = Uuid::from_data(a.getUuid());
    if (!backend || !object) {
      spdlog::warn("event=delete_skipped reason=\"malformed object address from controller\"");
      continue;
    }
    wanted.push_back(Deleted{*backend, *object});
  }
  struct Outcome {
    std::vector<Deleted> done;
    size_t removed = 0;
  };
  auto work = [this, &wanted] {
    const auto& backends = options_.backends;
    Outcome out;
    for (auto& d : wanted) {
      auto it = std::find_if(backends.begin(), backends.end(),
                             [&](ObjectStore* s) { return s->id() == d.backend; });
      if (it == backends.end()) {
        // Not a backend of ours: nothing of it is here. Confirm, so the request ends.
        spdlog::warn("event=delete_unknown_backend backend={} uuid={}", d.backend.str(),
                     d.object.str());
        out.done.push_back(d);
        continue;
      }
      try {
        if ((*it)->remove(d.object)) ++out.removed;
        spdlog::debug("event=object_deleted backend={} uuid={}", (*it)->identity().name,
                      d.object.str());
        out.done.push_back(d);
      } catch (const Error& e) {
        // Not confirmed: the controller asks again.
        spdlog::error("event=delete_failed backend={} uuid={} reason=\"{}\"",
                      (*it)->identity().name, d.object.str(), e.what());
      }
    }
    return out;
  };
  Outcome outcome = co_await run_blocking(*options_.pool, work);
  options_.metrics->add(metric::kObjectsDeleted, static_cast<double>(outcome.removed));
  deleted_.insert(deleted_.end(), outcome.done.begin(), outcome.done.end());
}

awaitable<void> ControllerLink::run() {
  auto backoff = options_.min_backoff;
  bool registered = false;
  while (!stopped_) {
    std::string failure;
    try {
      auto stats = co_await collect_stats();
      if (stopped_) break;
      last_beat_ = std::chrono::steady_clock::now();
      Reply reply;
      size_t confirming = 0;
      std::vector<CopyOutcome> copied;
      uint32_t copying = 0;
      std::vector<CopyRunning> running;
      const uint32_t load = options_.in_flight ? options_.in_flight->load() : 0;
      // The fillers are named: see pool_call.h on temporaries in co_await expressions.
      if (!registered) {
        RequestFiller fill = [&](proto::Request::Builder req) {
          auto r = req.initRegisterServer();
          r.setServerId(options_.server_id.data());
          r.setName(options_.name);
          r.setAddress(options_.address);
          fill_backends(r.initBackends(static_cast<unsigned>(stats.size())), stats);
        };
        reply = co_await client_.async_call(fill, options_.call_timeout);
      } else {
        confirming = std::min(deleted_.size(), kMaxDeletedPerHeartbeat);
        // Corrupt objects found by reads: reported once (a later read finds them again).
        std::vector<std::pair<Uuid, Uuid>> corrupt;
        for (auto* store : options_.backends)
          for (const Uuid& u : store->take_corrupt()) corrupt.emplace_back(store->id(), u);
        if (options_.copies) {
          copied = options_.copies->results(kMaxCopiedPerHeartbeat);
          copying = options_.copies->active();
          running = options_.copies->running();
        }
        RequestFiller fill = [&](proto::Request::Builder req) {
          auto h = req.initHeartbeat();
          h.setServerId(options_.server_id.data());
          fill_backends(h.initBackends(static_cast<unsigned>(stats.size())), stats);
          auto d = h.initDeleted(static_cast<unsigned>(confirming));
          for (unsigned i = 0; i < confirming; ++i) {
            d[i].setBackend(deleted_[i].backend.data());
            d[i].setUuid(deleted_[i].object.data());
          }
          auto c = h.initCopied(static_cast<unsigned>(copied.size()));
          for (unsigned i = 0; i < copied.size(); ++i) fill_copy_result(copied[i], c[i]);
          h.setCopying(copying);
          auto progress = h.initProgress(static_cast<unsigned>(running.size()));
          for (unsigned i = 0; i < running.size(); ++i) {
            progress[i].setBackend(running[i].backend.data());
            progress[i].setUuid(running[i].uuid.data());
            progress[i].setBytesDone(running[i].bytes_done);
            progress[i].setRunningMs(running[i].running_ms);
          }
          h.setLoad(load);
          auto bad = h.initCorrupt(static_cast<unsigned>(corrupt.size()));
          for (unsigned i = 0; i < corrupt.size(); ++i) {
            bad[i].setBackend(corrupt[i].first.data());
            bad[i].setUuid(corrupt[i].second.data());
          }
        };
        reply = co_await client_.async_call(fill, options_.call_timeout);
      }
      if (stopped_) break;
      reply.check();
      auto response = reply.response();
      if (response.which() != proto::Response::HEARTBEAT)
        throw Error(Errc::invalid, "controller answered without a heartbeat reply");
      deleted_.erase(deleted_.begin(), deleted_.begin() + static_cast<long>(confirming));
      if (options_.copies) options_.copies->confirm(copied.size());
      registered = true;
      set_state(State::up, "");
      backoff = options_.min_backoff;
      co_await apply(response.getHeartbeat());
    } catch (const Error& e) {
      failure = std::string(errc_name(e.code())) + ": " + e.what();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (stopped_) break;
    if (failure.empty()) {
      co_await sleep_interval();
      continue;
    }
    registered = false;
    set_state(State::down, failure);  // logs the first failure only
    co_await sleep(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace zhsm::fileserver
