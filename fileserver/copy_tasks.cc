// CopyTasks: the queue, the runner and the results of copy tasks (see copy_tasks.h).
#include "fileserver/copy_tasks.h"

#include <algorithm>
#include <atomic>

#include <capnp/message.h>
#include <spdlog/spdlog.h>

#include "common/frame.h"
#include "common/rpc_client.h"
#include "common/run_blocking.h"
#include "fileserver/fileserver_metrics.h"

namespace zhsm::fileserver {

struct CopyTasks::Task {
  capnp::MallocMessageBuilder message;  // the task as received: its token travels on
  Uuid backend;
  Uuid uuid;
  Uuid owner;  // the token's fsid: the head's owner
  uint64_t index = 0;
  uint64_t version = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::optional<Digest> sha256;
  std::vector<Source> sources;
  // Filled while the task runs, for its log line and the heartbeat's progress.
  std::string used_source;
  std::atomic<uint64_t> bytes{0};
  std::chrono::steady_clock::time_point started;
  bool already_here = false;

  Key key() const { return Key{backend, uuid, version}; }
  proto::Token::Reader token() { return message.getRoot<proto::CopyTask>().asReader().getToken(); }
};

namespace {

std::string uuid_or(const std::optional<Uuid>& id, const char* what) {
  return id ? id->str() : std::string("(malformed ") + what + ")";
}

}  // namespace

void fill_copy_result(const CopyOutcome& outcome, proto::CopyResult::Builder out) {
  out.setBackend(outcome.backend.data());
  out.setUuid(outcome.uuid.data());
  out.setVersion(outcome.version);
  out.setOk(outcome.ok);
  if (outcome.ok) {
    out.setSha256(capnp::Data::Reader(outcome.sha256.data(), outcome.sha256.size()));
  } else {
    auto e = out.initError();
    e.setCode(static_cast<proto::ErrorCode>(outcome.code));
    e.setMessage(outcome.message);
  }
}

CopyTasks::CopyTasks(asio::io_context& io, CopyTasksOptions options)
    : io_(io), options_(std::move(options)) {
  options_.max_running = std::max<size_t>(options_.max_running, 1);
}

CopyTasks::~CopyTasks() = default;

bool CopyTasks::submit(proto::CopyTask::Reader in) {
  auto task = std::make_shared<Task>();
  task->message.setRoot(in);
  auto backend = Uuid::from_data(in.getBackend());
  auto uuid = Uuid::from_data(in.getUuid());
  auto owner = Uuid::from_data(in.getToken().getFsid());
  std::string bad;
  if (!backend) bad = "destination backend id is not 16 bytes";
  else if (!uuid) bad = "object uuid is not 16 bytes";
  else if (!owner) bad = "token fsid is not 16 bytes";
  else if (in.getSha256().size() != 0 && in.getSha256().size() != 32)
    bad = "sha256 is " + std::to_string(in.getSha256().size()) + " bytes, not 0 or 32";
  else if (in.getSources().size() == 0)
    bad = "no source to copy from";
  for (auto s : in.getSources()) {
    auto id = Uuid::from_data(s.getBackend());
    if (!bad.empty()) break;
    if (!id || s.getAddress().size() == 0)
      bad = "source '" + std::string(s.getBackendName()) + "' lacks a backend id or address";
    else
      task->sources.push_back(Source{*id, s.getBackendName(), s.getAddress()});
  }
  if (!bad.empty()) {
    CopyOutcome failed;
    failed.backend = backend.value_or(Uuid{});
    failed.uuid = uuid.value_or(Uuid{});
    failed.version = in.getVersion();
    failed.code = Errc::invalid;
    failed.message = "malformed copy task: " + bad;
    spdlog::warn("event=copy_failed backend={} uuid={} version={} code=invalid reason=\"{}\"",
                 uuid_or(backend, "backend"), uuid_or(uuid, "uuid"), in.getVersion(),
                 failed.message);
    options_.metrics->add(metric::kCopiesFailed, 1, metric::label("code", "invalid"));
    std::lock_guard lock(mu_);
    results_.push_back(std::move(failed));
    return false;
  }
  task->backend = *backend;
  task->uuid = *uuid;
  task->owner = *owner;
  task->index = in.getIndex();
  task->version = in.getVersion();
  task->size = in.getSize();
  task->mtime_ns = in.getMtimeNs();
  if (in.getSha256().size() == 32) {
    Digest d{};
    std::copy(in.getSha256().begin(), in.getSha256().end(), d.begin());
    task->sha256 = d;
  }

  std::lock_guard lock(mu_);
  if (stopped_ || !active_.insert(task->key()).second) return false;
  queued_.push_back(std::move(task));
  start_queued();
  return true;
}

void CopyTasks::start_queued() {
  while (!stopped_ && running_ < options_.max_running && !queued_.empty()) {
    auto task = std::move(queued_.front());
    queued_.pop_front();
    ++running_;
    task->started = std::chrono::steady_clock::now();
    running_tasks_.push_back(task);
    asio::co_spawn(
        io_, [self = shared_from_this(), task] { return self->run(task); }, asio::detached);
  }
  options_.metrics->set(metric::kCopiesRunning, static_cast<double>(running_));
}

void CopyTasks::set_bandwidth_limit(uint64_t bytes_per_second) {
  if (bytes_per_second != limiter_.rate())
    spdlog::info("event=copy_bandwidth_limit bytes_per_second={}", bytes_per_second);
  limiter_.set_rate(bytes_per_second);
}

uint32_t CopyTasks::active() const {
  std::lock_guard lock(mu_);
  return static_cast<uint32_t>(queued_.size() + running_);
}

std::vector<CopyRunning> CopyTasks::running() const {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  std::vector<CopyRunning> out;
  for (const auto& t : running_tasks_)
    out.push_back(CopyRunning{
        t->backend, t->uuid, std::min(t->bytes.load(), t->size),
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(now - t->started).count())});
  return out;
}

std::vector<CopyOutcome> CopyTasks::results(size_t max) const {
  std::lock_guard lock(mu_);
  size_t n = std::min(max, results_.size());
  return std::vector<CopyOutcome>(results_.begin(), results_.begin() + static_cast<long>(n));
}

void CopyTasks::confirm(size_t n) {
  std::lock_guard lock(mu_);
  n = std::min(n, results_.size());
  results_.erase(results_.begin(), results_.begin() + static_cast<long>(n));
}

void CopyTasks::stop() {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  for (auto& t : queued_) active_.erase(t->key());
  queued_.clear();
}

bool CopyTasks::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

awaitable<void> CopyTasks::run(std::shared_ptr<Task> task) {
  auto started = std::chrono::steady_clock::now();
  auto it = options_.backends.find(task->backend);
  std::string backend = it == options_.backends.end() ? task->backend.str()
                                                      : it->second->identity().name;
  spdlog::info("event=copy_started backend={} uuid={} version={} size={} sources={}", backend,
               task->uuid.str(), task->version, task->size, task->sources.size());
  CopyOutcome outcome = co_await copy(*task);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (outcome.ok) {
    spdlog::info(
        "event=copy_done backend={} uuid={} version={} bytes={} seconds={:.3f} source={} "
        "already_here={} sha256={}",
        backend, task->uuid.str(), task->version, task->bytes.load(), seconds,
        task->used_source.empty() ? "-" : task->used_source, task->already_here,
        to_hex(outcome.sha256));
    options_.metrics->add(metric::kCopiesDone);
  } else {
    spdlog::warn(
        "event=copy_failed backend={} uuid={} version={} seconds={:.3f} code={} reason=\"{}\"",
        backend, task->uuid.str(), task->version, seconds, errc_name(outcome.code),
        outcome.message);
    options_.metrics->add(metric::kCopiesFailed, 1,
                          metric::label("code", std::string(errc_name(outcome.code))));
  }
  {
    std::lock_guard lock(mu_);
    active_.erase(task->key());
    --running_;
    std::erase(running_tasks_, task);
    results_.push_back(std::move(outcome));
    start_queued();
  }
  if (on_result_) on_result_();
}

awaitable<CopyOutcome> CopyTasks::copy(Task& t) {
  CopyOutcome out;
  out.backend = t.backend;
  out.uuid = t.uuid;
  out.version = t.version;
  try {
    auto it = options_.backends.find(t.backend);
    if (it == options_.backends.end())
      throw Error(Errc::not_found,
                  "destination backend " + t.backend.str() + " is not served here");
    ObjectStore& store = *it->second;
    std::string where = "destination backend '" + store.identity().name + "'";

    auto probe = [&] { return store.head(t.uuid); };
    std::optional<ObjectHead> here = co_await run_blocking(*options_.pool, probe);
    if (here) {
      if (here->owner != t.owner)
        throw Error(Errc::stale, where + " holds object " + t.uuid.str() + " of file " +
                                     here->owner.str() + ", not of file " + t.owner.str());
      if (here->version > t.version)
        throw Error(Errc::stale, where + " holds object " + t.uuid.str() + " at version " +
                                     std::to_string(here->version) + ", newer than " +
                                     std::to_string(t.version));
      bool same = here->version == t.version && here->size == t.size &&
                  (!t.sha256 || *t.sha256 == here->sha256);
      if (same) {  // and its data still matches (a corrupt copy is copied again)
        auto check = [&] { return store.data_intact(t.uuid); };
        same = co_await run_blocking(*options_.pool, check);
      }
      if (same) {
        t.already_here = true;
        out.ok = true;
        out.sha256 = here->sha256;
        co_return out;
      }
    }

    std::string failures;
    Errc code = Errc::not_found;
    for (const Source& source : t.sources) {
      if (stopped()) throw Error(Errc::disconnected, "the file server is stopping");
      try {
        CopyInstalled installed = co_await copy_from(t, source, store);
        t.used_source = source.name;
        t.already_here = installed.already_here;
        out.ok = true;
        out.sha256 = installed.sha256;
        co_return out;
      } catch (const Error& e) {
        code = e.code();
        std::string failure = "source '" + source.name + "' at " + source.address + ": " +
                              std::string(errc_name(e.code())) + ": " + e.what();
        spdlog::warn("event=copy_source_failed backend={} uuid={} version={} reason=\"{}\"",
                     store.identity().name, t.uuid.str(), t.version, failure);
        failures += (failures.empty() ? "" : "; ") + failure;
        // A full destination cannot be helped by another source.
        if (e.code() == Errc::no_space) break;
      }
    }
    out.code = code;
    out.message = "copy of object " + t.uuid.str() + " version " + std::to_string(t.version) +
                  " to " + where + " failed: " + failures;
  } catch (const Error& e) {
    out.code = e.code() == Errc::ok ? Errc::internal : e.code();
    out.message = e.what();
  } catch (const std::exception& e) {
    out.code = Errc::internal;
    out.message = e.what();
  }
  co_return out;
}

awaitable<CopyInstalled> CopyTasks::copy_from(Task& t, const Source& source, ObjectStore& store) {
  auto begin = [&] { return store.begin_copy(t.uuid, t.owner, t.index); };
  std::shared_ptr<WriteSession> session = co_await run_blocking(*options_.pool, begin);
  RpcClient client(io_, source.address);
  asio::steady_timer timer(io_);
  proto::Token::Reader token = t.token();
  CopyInstalled installed;
  std::exception_ptr failure;
  t.bytes = 0;
  try {
    uint64_t offset = 0;
    while (offset < t.size) {
      if (stopped()) throw Error(Errc::disconnected, "the file server is stopping");
      uint32_t length = static_cast<uint32_t>(std::min<uint64_t>(kMaxDataPiece, t.size - offset));
      auto delay = limiter_.reserve(length, BandwidthLimiter::Clock::now());
      if (delay.count() > 0) {
        timer.expires_after(delay);
        co_await timer.async_wait(asio::use_awaitable);
      }
      RequestFiller fill = [&](proto::Request::Builder b) {
        auto r = b.initReadObject();
        r.setToken(token);
        r.setBackend(source.backend.data());
        r.setUuid(t.uuid.data());
        r.setOffset(offset);
        r.setLength(length);
        r.setExpectVersion(t.version);
      };
      Reply reply = co_await client.async_call(fill, options_.call_timeout);
      if (!reply.ok())
        throw Error(reply.code(), "readObject at offset " + std::to_string(offset) + ": " +
                                      reply.message());
      auto response = reply.response();
      if (response.which() != proto::Response::READ_OBJECT)
        throw Error(Errc::invalid, "readObject answered with another kind of response");
      auto data = response.getReadObject();
      if (data.size() == 0 || data.size() > length)
        throw Error(Errc::io, "readObject at offset " + std::to_string(offset) + " gave " +
                                  std::to_string(data.size()) + " bytes of the " +
                                  std::to_string(length) + " asked (object of " +
                                  std::to_string(t.size) + " bytes expected)");
      auto write = [&] { store.write(*session, offset, data.begin(), data.size()); };
      co_await run_blocking(*options_.pool, write);
      offset += data.size();
      t.bytes += data.size();
      options_.metrics->add(metric::kCopyBytes, static_cast<double>(data.size()));
    }
    CopyInstall want{t.version, t.mtime_ns, t.size, t.sha256};
    auto install = [&] { return store.install_copy(*session, want); };
    installed = co_await run_blocking(*options_.pool, install);
  } catch (...) {
    failure = std::current_exception();
  }
  client.close();
  if (failure) {
    auto abort = [&] { store.abort(*session); };
    co_await run_blocking(*options_.pool, abort);
    std::rethrow_exception(failure);
  }
  co_return installed;
}

}  // namespace zhsm::fileserver
