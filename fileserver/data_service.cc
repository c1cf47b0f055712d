// DataService: validation and dispatch of client data requests, and the
// connection's write sessions (see data_service.h).
#include "fileserver/data_service.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/crc32.h"
#include "common/frame.h"
#include "common/token.h"
#include "fileserver/fileserver_metrics.h"
#include "common/run_blocking.h"

namespace zhsm::fileserver {
namespace {

using Clock = std::chrono::steady_clock;

const char* op_name(proto::Request::Which which) {
  switch (which) {
    case proto::Request::READ_OBJECT: return "readObject";
    case proto::Request::BEGIN_WRITE: return "beginWrite";
    case proto::Request::WRITE_OBJECT: return "writeObject";
    case proto::Request::TRUNCATE_OBJECT: return "truncateObject";
    case proto::Request::COMMIT_WRITE: return "commitWrite";
    case proto::Request::ABORT_WRITE: return "abortWrite";
    default: return "other";
  }
}

Uuid object_uuid(capnp::Data::Reader data) {
  auto id = Uuid::from_data(data);
  if (!id)
    throw Error(Errc::invalid, "object uuid must be 16 bytes, got " + std::to_string(data.size()));
  return *id;
}

// A new random session id: never 0, so an id from an earlier connection is
// practically never valid on a later one.
uint64_t fresh_session_id() {
  for (;;) {
    auto u = Uuid::random();
    uint64_t id = 0;
    for (int i = 0; i < 8; ++i) id = id << 8 | u.bytes[i];
    if (id != 0) return id;
  }
}

}  // namespace

class DataService::Use {
 public:
  Use(DataService& service, uint64_t id) : service_(service), id_(id) { touch(+1); }
  ~Use() { touch(-1); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

 private:
  void touch(int delta) {
    auto it = service_.sessions_.find(id_);
    if (it == service_.sessions_.end()) return;
    it->second.busy += delta;
    it->second.last_used = Clock::now();
  }
  DataService& service_;
  uint64_t id_;
};

DataService::DataService(std::shared_ptr<const DataServiceContext> context, std::string peer)
    : context_(std::move(context)), peer_(std::move(peer)) {}

DataService::~DataService() = default;

awaitable<void> DataService::handle(proto::Request::Reader req, proto::Response::Builder resp) {
  const char* op = op_name(req.which());
  auto& metrics = *context_->metrics;
  metrics.add(metric::kRequests, 1, metric::label("op", op));
  // Counted while it runs, whichever way it ends.
  struct InFlight {
    std::atomic<uint32_t>* n;
    explicit InFlight(std::atomic<uint32_t>* counter) : n(counter) {
      if (n) n->fetch_add(1, std::memory_order_relaxed);
    }
    ~InFlight() {
      if (n) n->fetch_sub(1, std::memory_order_relaxed);
    }
  } in_flight(context_->in_flight.get());
  Errc failed = Errc::ok;
  std::string message;
  std::exception_ptr failure;
  try {
    co_await dispatch(req, resp);
  } catch (const Error& e) {
    failure = std::current_exception();
    failed = e.code() == Errc::ok ? Errc::internal : e.code();
    message = e.what();
  } catch (const kj::Exception& e) {
    failure = std::current_exception();
    failed = Errc::invalid;  // a malformed message: RpcServer answers and logs it
    message = e.getDescription().cStr();
  } catch (const std::exception& e) {
    failure = std::current_exception();
    failed = Errc::internal;  // RpcServer answers and logs it
    message = e.what();
  }
  if (!failure) co_return;
  metrics.add(metric::kErrors, 1, metric::label("code", std::string(errc_name(failed))));
  switch (failed) {
    case Errc::io:
    case Errc::no_space:
      spdlog::error("event=request_failed op={} peer={} code={} reason=\"{}\"", op, peer_,
                    errc_name(failed), message);
      break;
    case Errc::bad_token:
    case Errc::invalid:
      spdlog::warn("event=request_refused op={} peer={} code={} reason=\"{}\"", op, peer_,
                   errc_name(failed), message);
      break;
    default:
      spdlog::debug("event=request_failed op={} peer={} code={} reason=\"{}\"", op, peer_,
                    errc_name(failed), message);
  }
  std::rethrow_exception(failure);
}

awaitable<void> DataService::dispatch(proto::Request::Reader req, proto::Response::Builder resp) {
  switch (req.which()) {
    case proto::Request::READ_OBJECT: co_await read_object(req.getReadObject(), resp); break;
    case proto::Request::BEGIN_WRITE: co_await begin_write(req.getBeginWrite(), resp); break;
    case proto::Request::WRITE_OBJECT: co_await write_object(req.getWriteObject(), resp); break;
    case proto::Request::TRUNCATE_OBJECT:
      co_await truncate_object(req.getTruncateObject(), resp);
      break;
    case proto::Request::COMMIT_WRITE: co_await commit_write(req.getCommitWrite(), resp); break;
    case proto::Request::ABORT_WRITE: co_await abort_write(req.getAbortWrite(), resp); break;
    default: throw Error(Errc::unimplemented, "a file server does not serve this request");
  }
}

Uuid DataService::check_token(proto::Token::Reader token, bool write) const {
  std::string which = "token " + std::to_string(token.getTokenId());
  switch (verify_token(context_->cluster_key, token, now_ms())) {
    case Errc::ok: break;
    case Errc::token_expired:
      throw Error(Errc::token_expired, which + " expired at " +
                                           std::to_string(token.getExpiresMs()) + " ms");
    default:
      throw Error(Errc::bad_token, which + " is not valid: its MAC does not match its fields "
                                           "under this cluster's key");
  }
  if (!token_allows(token.getMode(), write))
    throw Error(Errc::bad_token, which + " grants read access only: it cannot start a write");
  return *Uuid::from_data(token.getFsid());  // verify_token checked the size
}

ObjectStore* DataService::backend(capnp::Data::Reader id) const {
  auto uuid = Uuid::from_data(id);
  if (!uuid)
    throw Error(Errc::invalid, "backend id must be 16 bytes, got " + std::to_string(id.size()));
  auto it = context_->backends.find(*uuid);
  if (it == context_->backends.end())
    throw Error(Errc::not_found, "backend " + uuid->str() + " is not served here");
  return it->second;
}

DataService::OpenSession& DataService::session(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end())
    throw Error(Errc::stale, "no write session " + std::to_string(id) +
                                 " on this connection (it ended, sat idle too long, or was "
                                 "begun on another connection)");
  return it->second;
}

// A failed session stays until the client aborts it (or it idles out): the pieces of it
// still on their way then get its failure (a full disk: noSpace), not `stale`.
void DataService::forget(uint64_t id, bool always) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (!always && (!it->second.session->ended() || it->second.session->failed())) return;
  sessions_.erase(it);
  context_->metrics->add(metric::kSessionsOpen, -1);
}

void DataService::abort_in_background(const OpenSession& s) {
  asio::post(*context_->pool, [session = s.session, store = s.store] { store->abort(*session); });
}

awaitable<void> DataService::read_object(proto::ReadObject::Reader req,
                                         proto::Response::Builder resp) {
  Uuid owner = check_token(req.getToken(), false);
  ObjectStore* store = backend(req.getBackend());
  Uuid uuid = object_uuid(req.getUuid());
  uint32_t length = req.getLength();
  if (length > kMaxDataPiece)
    throw Error(Errc::invalid, "read of " + std::to_string(length) + " bytes: at most " +
                                   std::to_string(kMaxDataPiece) + " per call");
  uint64_t offset = req.getOffset();
  // The answer's bytes are read straight into the answer: the disk work fills an
  // orphan of the response message (the coroutine waits meanwhile), cut to what was read.
  capnp::Orphan<capnp::Data> data =
      capnp::Orphanage::getForMessageContaining(resp).newOrphan<capnp::Data>(length);
  uint8_t* into = data.get().begin();
  size_t got = 0;
  try {
    if (uint64_t sid = req.getSessionId(); sid != 0) {
      auto& open = session(sid);
      if (open.store != store || open.session->uuid() != uuid)
        throw Error(Errc::invalid, "write session " + std::to_string(sid) + " is on object " +
                                       open.session->uuid().str() + ", not " + uuid.str());
      if (open.session->owner() != owner)
        throw Error(Errc::bad_token, "write session " + std::to_string(sid) +
                                         " belongs to another file");
      auto s = open.session;
      auto order = *open.order;
      Use use(*this, sid);
      auto work = [&] { return store->read(*s, offset, into, length); };
      got = co_await run_blocking(order, work);
    } else {
      uint64_t expect = req.getExpectVersion();
      auto work = [&] { return store->read(uuid, owner, offset, into, length, expect); };
      got = co_await run_blocking(*context_->pool, work);
    }
  } catch (...) {
    data.truncate(0);  // gives the space back, so an error answer does not carry it
    throw;
  }
  data.truncate(static_cast<capnp::uint>(got));
  resp.adoptReadObject(kj::mv(data));
  context_->metrics->add(metric::kBytesRead, static_cast<double>(got));
}

awaitable<void> DataService::begin_write(proto::BeginWrite::Reader req,
                                         proto::Response::Builder resp) {
  Uuid owner = check_token(req.getToken(), true);
  ObjectStore* store = backend(req.getBackend());
  Uuid uuid = object_uuid(req.getUuid());
  uint64_t index = req.getIndex();
  uint64_t keep = req.getKeepLength();
  if (sessions_.size() >= context_->max_sessions_per_connection)
    throw Error(Errc::overloaded, "this connection has " + std::to_string(sessions_.size()) +
                                      " write sessions open: commit or abort some first");
  auto work = [&] { return store->begin_write(uuid, owner, index, keep); };
  std::shared_ptr<WriteSession> s = co_await run_blocking(*context_->pool, work);
  OpenSession open{s, store, Clock::now(), 0, asio::make_strand(context_->pool->get_executor())};
  if (closed_) {
    abort_in_background(open);
    throw Error(Errc::disconnected, "connection closed while the write session started");
  }
  uint64_t id = fresh_session_id();
  while (sessions_.count(id)) id = fresh_session_id();
  sessions_.emplace(id, std::move(open));
  context_->metrics->add(metric::kSessionsOpen, 1);
  auto executor = co_await asio::this_coro::executor;
  start_idle_reaper(executor);
  auto out = resp.initBeginWrite();
  out.setSessionId(id);
  out.setBaseVersion(s->base_version());
  spdlog::debug("event=write_begun peer={} backend={} uuid={} session={} base_version={} keep={}",
                peer_, store->identity().name, uuid.str(), id, s->base_version(), keep);
}

template <class F>
awaitable<std::invoke_result_t<F&>> DataService::in_session(uint64_t sid, F& work) {
  using R = std::invoke_result_t<F&>;
  std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
  std::exception_ptr failure;
  auto order = *session(sid).order;
  {
    Use use(*this, sid);
    try {
      if constexpr (std::is_void_v<R>) {
        co_await run_blocking(order, work);
      } else {
        result.emplace(co_await run_blocking(order, work));
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }
  forget(sid, false);
  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

awaitable<void> DataService::write_object(proto::WriteObject::Reader req,
                                          proto::Response::Builder resp) {
  uint64_t sid = req.getSessionId();
  auto data = req.getData();
  if (data.size() > kMaxDataPiece)
    throw Error(Errc::invalid, "write of " + std::to_string(data.size()) + " bytes: at most " +
                                   std::to_string(kMaxDataPiece) + " per call");
  auto& open = session(sid);
  auto s = open.session;
  auto* store = open.store;
  uint64_t offset = req.getOffset();
  uint32_t crc = req.getCrc32();
  auto work = [&] {
    uint32_t actual = crc32_of(data.begin(), data.size());
    if (actual != crc)
      throw Error(Errc::invalid, "crc32 of the " + std::to_string(data.size()) +
                                     " bytes at offset " + std::to_string(offset) +
                                     " does not match: damaged in transit, nothing written");
    store->write(*s, offset, data.begin(), data.size());
  };
  co_await in_session(sid, work);
  context_->metrics->add(metric::kBytesWritten, static_cast<double>(data.size()));
  resp.setDone();
}

awaitable<void> DataService::truncate_object(proto::TruncateObject::Reader req,
                                             proto::Response::Builder resp) {
  uint64_t sid = req.getSessionId();
  auto& open = session(sid);
  auto s = open.session;
  auto* store = open.store;
  uint64_t length = req.getLength();
  auto work = [&] { store->truncate(*s, length); };
  co_await in_session(sid, work);
  resp.setDone();
}

awaitable<void> DataService::commit_write(proto::CommitWrite::Reader req,
                                          proto::Response::Builder resp) {
  uint64_t sid = req.getSessionId();
  auto& open = session(sid);
  auto s = open.session;
  auto* store = open.store;
  int64_t mtime = req.getMtimeNs();
  auto work = [&] { return store->commit(*s, mtime); };
  CommitResult result = co_await in_session(sid, work);
  context_->metrics->add(metric::kCommits);
  spdlog::debug("event=write_committed peer={} backend={} uuid={} version={} size={} sha256={}",
                peer_, store->identity().name, s->uuid().str(), result.version, result.size,
                to_hex(result.sha256));
  auto out = resp.initCommitWrite();
  out.setVersion(result.version);
  out.setSize(result.size);
  out.setSha256(capnp::Data::Reader(result.sha256.data(), result.sha256.size()));
}

awaitable<void> DataService::abort_write(proto::AbortWrite::Reader req,
                                         proto::Response::Builder resp) {
  uint64_t sid = req.getSessionId();
  auto it = sessions_.find(sid);
  if (it != sessions_.end()) {
    auto s = it->second.session;
    auto* store = it->second.store;
    forget(sid, true);
    auto work = [&] { store->abort(*s); };
    co_await run_blocking(*context_->pool, work);
  }
  resp.setDone();  // aborting what is already gone is success
}

void DataService::start_idle_reaper(const asio::any_io_executor& executor) {
  if (idle_timer_ || closed_) return;
  idle_timer_ = std::make_unique<asio::steady_timer>(executor);
  asio::co_spawn(executor, [self = shared_from_this()] { return self->reap_idle(); },
                 asio::detached);
}

awaitable<void> DataService::reap_idle() {
  auto timeout = context_->session_idle_timeout;
  auto interval = std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout / 4),
      std::chrono::milliseconds(10), std::chrono::milliseconds(60000));
  while (!closed_) {
    idle_timer_->expires_after(interval);
    boost::system::error_code ec;
    co_await idle_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) break;
    auto now = Clock::now();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto& open = it->second;
      if (open.busy == 0 && now - open.last_used >= timeout) {
        spdlog::info("event=write_session_idle_aborted peer={} backend={} uuid={} session={}",
                     peer_, open.store->identity().name, open.session->uuid().str(), it->first);
        abort_in_background(open);
        context_->metrics->add(metric::kSessionsOpen, -1);
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void DataService::on_close() {
  closed_ = true;
  if (idle_timer_) idle_timer_->cancel();
  if (!sessions_.empty())
    spdlog::info("event=write_sessions_aborted peer={} count={} reason=\"connection closed\"",
                 peer_, sessions_.size());
  for (auto& [id, open] : sessions_) abort_in_background(open);
  context_->metrics->add(metric::kSessionsOpen, -static_cast<double>(sessions_.size()));
  sessions_.clear();
}

}  // namespace zhsm::fileserver
