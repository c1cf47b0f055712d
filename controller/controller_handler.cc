// Request dispatch, per-request metrics and error logging of ControllerHandler, plus the
// session requests (hello, with resumption of an earlier session). The request groups
// live in handler_namespace.cc, handler_files.cc, handler_servers.cc and handler_locks.cc.
#include "controller/controller_handler.h"

#include <optional>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "controller/proto_convert.h"

namespace zhsm {
namespace {

constexpr auto kTouchInterval = std::chrono::seconds(60);

}  // namespace

awaitable<void> ControllerHandler::handle(proto::Request::Reader req,
                                          proto::Response::Builder resp) {
  const std::string_view op = request_name(req.which());
  auto& metrics = service_.metrics();
  const std::string op_label = fmt::format("op=\"{}\"", op);
  metrics.add("zhsm_controller_requests_total", 1, op_label);
  // Time from the decoded request to its answer, errors included (the reply's encoding and
  // send are not in it).
  struct Timer {
    Metrics& metrics;
    const std::string& label;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~Timer() {
      metrics.add("zhsm_controller_request_seconds_sum",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                  label);
      metrics.add("zhsm_controller_request_seconds_count", 1, label);
    }
  } timer{metrics, op_label};
  std::optional<Error> missing;
  try {
    try {
      co_await dispatch(req, resp);
    } catch (const Error& e) {
      if (e.code() != Errc::not_found) throw;
      missing = e;
    }
    // (no co_await in a handler)
    if (missing) co_await reword_missing(req, *missing);
  } catch (const Error& e) {
    metrics.add("zhsm_controller_errors_total", 1,
                fmt::format("op=\"{}\",code=\"{}\"", op, errc_name(e.code())));
    switch (e.code()) {
      case Errc::internal:
      case Errc::disconnected:
      case Errc::overloaded:
        spdlog::warn("event=request_failed op={} peer={} code={} reason=\"{}\"", op, peer_,
                     errc_name(e.code()), e.what());
        break;
      default:
        spdlog::debug("event=request_failed op={} peer={} code={} reason=\"{}\"", op, peer_,
                      errc_name(e.code()), e.what());
    }
    throw;
  } catch (const std::exception& e) {
    metrics.add("zhsm_controller_errors_total", 1,
                fmt::format("op=\"{}\",code=\"internal\"", op));
    throw;  // RpcServer answers `internal` and logs it once
  }
}

namespace {

// The inodes a request names, which a client's kernel may have reached through names it
// still caches: parents of names, the files and directories themselves. Not readdir: it
// comes by a descriptor, which Linux does not look up again.
std::vector<uint64_t> named_inodes(proto::Request::Reader req) {
  using W = proto::Request::Which;
  switch (req.which()) {
    case W::LOOKUP: return {req.getLookup().getParent()};
    case W::GETATTR: return {req.getGetattr().getIno()};
    case W::READLINK: return {req.getReadlink().getIno()};
    case W::LISTXATTR: return {req.getListxattr().getIno()};
    case W::SETATTR: return {req.getSetattr().getIno()};
    case W::MKNOD: return {req.getMknod().getParent()};
    case W::MKDIR: return {req.getMkdir().getParent()};
    case W::SYMLINK: return {req.getSymlink().getParent()};
    case W::CREATE: return {req.getCreate().getParent()};
    case W::LINK: return {req.getLink().getIno(), req.getLink().getNewParent()};
    case W::UNLINK: return {req.getUnlink().getParent()};
    case W::RMDIR: return {req.getRmdir().getParent()};
    case W::RENAME: return {req.getRename().getParent(), req.getRename().getNewParent()};
    case W::OPEN: return {req.getOpen().getIno()};
    case W::SETXATTR: return {req.getSetxattr().getIno()};
    case W::GETXATTR: return {req.getGetxattr().getIno()};
    case W::REMOVEXATTR: return {req.getRemovexattr().getIno()};
    default: return {};
  }
}

}  // namespace

awaitable<void> ControllerHandler::reword_missing(proto::Request::Reader req,
                                                  const Error& failure) {
  MetaStore& store = service_.store();
  // Only after a failure; an inode that is there is usually in the metadata cache, and
  // one read from the database stays there (CachingMetaStore::getattr), so a directory
  // probed for many missing names costs at most one extra read.
  for (uint64_t ino : named_inodes(req)) {
    if (ino == 0 || store.peek_getattr(ino)) continue;
    bool gone = false;
    try {
      co_await service_.db([&] { store.getattr(ino); });
    } catch (const Error& e) {
      gone = e.code() == Errc::not_found;
    }
    if (gone)
      throw Error(Errc::stale, fmt::format("{}: inode {} does not exist ({})",
                                           request_name(req.which()), ino, failure.what()));
  }
  throw failure;
}

awaitable<void> ControllerHandler::dispatch(proto::Request::Reader req,
                                            proto::Response::Builder resp) {
  using W = proto::Request::Which;
  switch (req.which()) {
    case W::HELLO:
      co_await hello(req.getHello(), resp);
      co_return;
    case W::LOOKUP:
    case W::GETATTR:
    case W::SETATTR:
    case W::MKNOD:
    case W::MKDIR:
    case W::SYMLINK:
    case W::LINK:
    case W::UNLINK:
    case W::RMDIR:
    case W::RENAME:
    case W::READLINK:
    case W::READDIR:
    case W::SETXATTR:
    case W::GETXATTR:
    case W::LISTXATTR:
    case W::REMOVEXATTR:
      co_await touch_client();
      co_await handle_namespace(req, resp);
      co_return;
    case W::CREATE:
    case W::OPEN:
    case W::RELEASE:
    case W::COMMIT_DATA:
    case W::RENEW_TOKEN:
    case W::STATFS:
    case W::SYNC:
      co_await touch_client();
      co_await handle_files(req, resp);
      co_return;
    case W::SET_LOCK:
    case W::GET_LOCK:
    case W::DATA_MAP:
      co_await touch_client();
      co_await handle_locks(req, resp);
      co_return;
    case W::LEASES:
      co_await touch_client();
      co_await lease_poll(req.getLeases(), resp);
      co_return;
    case W::REGISTER_SERVER:
    case W::HEARTBEAT:
    case W::CLUSTER_STATUS:
    case W::FILE_INFO:
      co_await handle_servers(req, resp);
      co_return;
    case W::CHAIN_LIST:
    case W::CHAIN_SHOW:
    case W::CHAIN_CREATE:
    case W::CHAIN_DELETE:
    case W::CHAIN_ADD_RULE:
    case W::CHAIN_REMOVE_RULE:
    case W::CHAIN_SET_DIR:
    case W::WHY:
    case W::PLAN:
    case W::JOBS:
    case W::SERVER_MAINTENANCE:
    case W::SERVER_DRAIN:
    case W::CHAIN_SET:
      co_await handle_chains(req, resp);
      co_return;
    case W::READ_OBJECT:
    case W::BEGIN_WRITE:
    case W::WRITE_OBJECT:
    case W::TRUNCATE_OBJECT:
    case W::COMMIT_WRITE:
    case W::ABORT_WRITE:
      break;
  }
  throw Error(Errc::unimplemented,
              fmt::format("the controller does not serve {}", request_name(req.which())));
}

awaitable<void> ControllerHandler::hello(proto::Hello::Reader req, proto::Response::Builder resp) {
  std::string name = req.getClientName();
  const uint64_t resume = req.getResumeClientId();
  MetaStore& store = service_.store();
  bool resumed = false;
  if (resume != 0) {
    auto again = [&store, &name, resume] { return store.resume_client(resume, name); };
    resumed = co_await service_.db(again);
  }
  uint64_t id = resume;
  if (!resumed) {
    auto add = [&store, &name] { return store.add_client(name); };
    id = co_await service_.db(add);
  }
  if (id != client_id_) {
    if (client_id_ != 0)
      service_.clients().detach(client_id_, std::chrono::steady_clock::now());
    service_.clients().attach(id);
  }
  client_id_ = id;
  last_touch_ = std::chrono::steady_clock::now();
  const auto& settings = store.settings();
  auto out = resp.initHello();
  out.setClientId(id);
  out.setChunkSize(settings.chunk_size);
  out.setInlineMax(settings.inline_max);
  out.setTokenLifetimeMs(static_cast<uint64_t>(service_.options().token_lifetime_ms));
  spdlog::info("event=client_hello client={} name=\"{}\" peer={} resumed={}{}", id, name, peer_,
               resumed, resume != 0 && !resumed ? fmt::format(" unknown_resume={}", resume) : "");
}

awaitable<void> ControllerHandler::touch_client() {
  if (client_id_ == 0) co_return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_touch_ < kTouchInterval) co_return;
  last_touch_ = now;
  try {
    uint64_t id = client_id_;
    co_await service_.db([this, id] { service_.store().touch_client(id); });
  } catch (const Error& e) {
    // Only bookkeeping: the request itself goes on and reports its own failure.
    spdlog::debug("event=client_touch_failed client={} reason=\"{}\"", client_id_, e.what());
  }
}

void ControllerHandler::on_close() {
  if (client_id_ == 0) return;
  service_.clients().detach(client_id_, std::chrono::steady_clock::now());
  spdlog::info("event=client_gone client={} peer={}", client_id_, peer_);
}

}  // namespace zhsm
