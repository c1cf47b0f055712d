// Retry with capped exponential backoff (100 ms .. 1.6 s, five tries) for
// idempotent controller calls; one log line when the controller stays away; every
// call counted in the mount's metrics.
#include "client-fuse/controller_link.h"

#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "client-fuse/attr.h"
#include "common/request_names.h"

namespace zhsm::fuse {

ControllerLink::ControllerLink(asio::io_context& io, std::string address, std::string client_name)
    : rpc_(io, std::move(address)), client_name_(std::move(client_name)) {}

void ControllerLink::rehello() {
  const uint64_t resume = client_id_.load();
  Reply r = rpc_.call(
      [&](proto::Request::Builder req) {
        auto h = req.initHello();
        h.setClientName(client_name_);
        h.setResumeClientId(resume);
      },
      std::chrono::seconds(10));
  if (!r.ok()) {
    need_hello_ = true;
    return;
  }
  uint64_t id = r.response().which() == proto::Response::HELLO
                    ? r.response().getHello().getClientId() : 0;
  if (id != 0) client_id_ = id;
  hello_connection_ = rpc_.connection_id();
  if (resume != 0 && id != resume)
    spdlog::warn("event=client_not_resumed controller={} old_client_id={} client_id={}",
                 rpc_.address(), resume, id);
  else
    spdlog::info("event=hello_again controller={} client_id={}", rpc_.address(), id);
}

bool may_change(proto::Request::Reader request) {
  using W = proto::Request::Which;
  switch (request.which()) {
    case W::HELLO:
    case W::LOOKUP:
    case W::GETATTR:
    case W::READLINK:
    case W::READDIR:
    case W::GETXATTR:
    case W::LISTXATTR:
    case W::STATFS:
    case W::RELEASE:
    case W::RENEW_TOKEN:
    case W::SET_LOCK:
    case W::GET_LOCK:
    case W::DATA_MAP:
    case W::SYNC:
    case W::LEASES:
      return false;
    case W::OPEN:
      return request.getOpen().getTruncate();
    default:
      return true;
  }
}

namespace {

std::string name_of(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

}  // namespace

NameChange name_change(proto::Request::Reader request) {
  using W = proto::Request::Which;
  NameChange c;
  switch (request.which()) {
    case W::CREATE:
      c.add_dir = request.getCreate().getParent();
      c.add_name = name_of(request.getCreate().getName());
      break;
    case W::MKNOD:
      c.add_dir = request.getMknod().getParent();
      c.add_name = name_of(request.getMknod().getName());
      break;
    case W::MKDIR:
      c.add_dir = request.getMkdir().getParent();
      c.add_name = name_of(request.getMkdir().getName());
      break;
    case W::SYMLINK:
      c.add_dir = request.getSymlink().getParent();
      c.add_name = name_of(request.getSymlink().getName());
      break;
    case W::LINK:
      c.add_dir = request.getLink().getNewParent();
      c.add_name = name_of(request.getLink().getNewName());
      break;
    case W::RENAME: {
      auto r = request.getRename();
      if (r.getExchange()) break;  // both names stay
      c.add_dir = r.getNewParent();
      c.add_name = name_of(r.getNewName());
      c.removed_dir = r.getParent();
      c.removed_name = name_of(r.getName());
      break;
    }
    case W::UNLINK:
      c.removed_dir = request.getUnlink().getParent();
      c.removed_name = name_of(request.getUnlink().getName());
      break;
    case W::RMDIR:
      c.removed_dir = request.getRmdir().getParent();
      c.removed_name = name_of(request.getRmdir().getName());
      break;
    default:
      break;
  }
  return c;
}

void ControllerLink::note_names(const NameChange& change, const Reply* reply,
                                std::chrono::steady_clock::time_point asked) {
  if (!leases_) return;
  if (!reply) {
    // Whether the name was added is not known: the directory's names no longer are.
    if (change.add_dir) leases_->end(change.add_dir);
    return;
  }
  if (change.removed_dir) leases_->removed(change.removed_dir, change.removed_name);
  if (change.add_dir) leases_->added(change.add_dir, change.add_name);
  auto resp = reply->response();
  if (resp.getLeaseMs() > 0 && resp.which() == proto::Response::ATTR) {
    leases_->grant(resp.getAttr().getIno(), asked, std::chrono::milliseconds(resp.getLeaseMs()),
                   rpc_.connection_id());
    if (lease_keeper_) lease_keeper_->wake();
  }
}

Reply ControllerLink::call(const RequestFiller& fill, Retry retry,
                           std::chrono::milliseconds timeout) {
  bool changing = false;
  std::optional<proto::Request::Which> kind;
  NameChange names;
  auto counted = [&](proto::Request::Builder req) {
    fill(req);
    kind = req.which();
    if (leases_) names = name_change(req.asReader());
    if (!changing && may_change(req.asReader())) {
      changing = true;
      changes_.fetch_add(1, std::memory_order_acq_rel);
    }
  };
  struct AfterAnswer {
    const bool& changing;
    std::atomic<uint64_t>& changes;
    ~AfterAnswer() {
      if (changing) changes.fetch_add(1, std::memory_order_acq_rel);
    }
  } after_answer{changing, changes_};
  const auto start = std::chrono::steady_clock::now();
  auto count = [&](const Errc* failed) {
    if (!kind) return;
    // request_name() answers string literals: their address names the row.
    const std::string_view op = request_name(*kind);
    if (calls_) calls_->add(op.data(), std::chrono::steady_clock::now() - start);
    if (failed && metrics_)
      metrics_->add("zhsm_fuse_controller_errors_total", 1,
                    fmt::format("op=\"{}\",code=\"{}\"", op, errc_name(*failed)));
  };
  Reply r = [&] {
    try {
      return call_counted(counted, retry, timeout);
    } catch (const Error& e) {
      const Errc code = e.code();
      count(&code);
      note_names(names, nullptr, start);
      throw;
    }
  }();
  count(nullptr);
  note_names(names, &r, start);
  if (fresh_dirs_ && r.response().hasTouched()) {
    const auto now = FreshDirs::Clock::now();
    for (auto dir : r.response().getTouched())
      fresh_dirs_->note(stat_from(dir), dir.getVersion(), now);
  }
  return r;
}

Reply ControllerLink::call_counted(const RequestFiller& fill, Retry retry,
                                   std::chrono::milliseconds timeout) {
  constexpr int kTries = 5;
  auto backoff = std::chrono::milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    bool replaced = client_id_.load() != 0 && rpc_.connection_id() != hello_connection_.load();
    if (!client_name_.empty() && (need_hello_.exchange(false) || replaced)) rehello();
    Reply r = rpc_.call(fill, timeout);
    if (r.ok()) return r;
    bool transport = r.code() == Errc::disconnected || r.code() == Errc::timeout ||
                     r.code() == Errc::overloaded;
    if (r.code() == Errc::disconnected && !client_name_.empty()) need_hello_ = true;
    if (!transport || retry == Retry::once || attempt >= kTries) {
      if (transport)
        spdlog::warn("event=controller_unreachable controller={} code={} msg=\"{}\"",
                     rpc_.address(), errc_name(r.code()), r.message());
      throw Error(r.code(), r.message());
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1600));
  }
}

void expect_response(const Reply& reply, proto::Response::Which which) {
  if (reply.response().which() != which)
    throw Error(Errc::internal, "controller answered with an unexpected response kind");
}

}  // namespace zhsm::fuse
