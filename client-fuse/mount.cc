// Mount: start/stop of the threads and links, hello, handles and the token
// renewer (every token_lifetime/3, all tokens of all open inodes).
#include "client-fuse/mount.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "client-fuse/attr.h"
#include "common/port_file.h"
#include "common/request_names.h"

namespace zhsm::fuse {

namespace {

// Dirty data untouched this long is committed in the background: file servers
// abort write sessions idle for 10 minutes, and the data is safer committed.
constexpr int64_t kIdleCommitNs = int64_t{60} * 1000000000;

HelloInfo hello_on(ControllerLink& link, const std::string& client_name) {
  Reply r = link.call([&](proto::Request::Builder req) { req.initHello().setClientName(client_name); },
                      Retry::idempotent, std::chrono::seconds(10));
  expect_response(r, proto::Response::HELLO);
  auto h = r.response().getHello();
  HelloInfo info;
  info.client_id = h.getClientId();
  if (h.getChunkSize() > 0) info.geometry.chunk_size = h.getChunkSize();
  info.geometry.inline_max = h.getInlineMax();
  if (h.getTokenLifetimeMs() > 0) info.geometry.token_lifetime_ms = h.getTokenLifetimeMs();
  return info;
}

}  // namespace

HelloInfo probe_controller(const std::string& address, const std::string& client_name) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread t([&io] { io.run(); });
  std::optional<HelloInfo> info;
  std::optional<Error> error;
  {
    ControllerLink link(io, address);
    try {
      info = hello_on(link, client_name);
    } catch (const Error& e) {
      error = e;
    }
    link.close();
  }
  work.reset();
  io.stop();
  t.join();
  if (error) throw *error;
  return *info;
}

Mount::Mount(MountOptions options, HelloInfo hello, std::string client_name)
    : options_(std::move(options)),
      hello_(hello),
      client_name_(std::move(client_name)),
      xattrs_(std::chrono::duration_cast<XattrCache::Clock::duration>(
                  std::chrono::duration<double>(options_.attr_timeout)),
              kKnownXattrInodes),
      statahead_(Statahead::Options{
          std::chrono::duration_cast<Statahead::Clock::duration>(
              std::chrono::duration<double>(options_.entry_timeout)),
          options_.statahead}),
      fresh_dirs_(std::chrono::duration_cast<FreshDirs::Clock::duration>(
                      std::chrono::duration<double>(options_.attr_timeout)),
                  kFreshDirs) {
  describe_metrics();
}

Mount::~Mount() { stop(); }

void Mount::describe_metrics() {
  metrics_.describe("zhsm_fuse_requests_total", "counter", "FUSE requests answered, by op");
  metrics_.describe("zhsm_fuse_request_seconds_sum", "counter",
                    "Time from a FUSE request's arrival to its answer, by op");
  metrics_.describe("zhsm_fuse_request_seconds_count", "counter",
                    "Requests timed in zhsm_fuse_request_seconds_sum, by op");
  metrics_.describe("zhsm_fuse_errors_total", "counter",
                    "FUSE requests answered with an error, by op and code");
  metrics_.describe("zhsm_fuse_controller_calls_total", "counter",
                    "Calls to the controller, by request kind (retries included)");
  metrics_.describe("zhsm_fuse_controller_call_seconds_sum", "counter",
                    "Time of the calls to the controller as this mount waited for them, by op");
  metrics_.describe("zhsm_fuse_controller_errors_total", "counter",
                    "Calls to the controller that failed, by op and code");
  metrics_.describe("zhsm_fuse_server_calls_total", "counter",
                    "Calls to file servers, by request kind (every piece of a write is one)");
  metrics_.describe("zhsm_fuse_server_call_seconds_sum", "counter",
                    "Time from sending a call to a file server to its answer, by op");
  metrics_.describe("zhsm_fuse_server_errors_total", "counter",
                    "Calls to file servers that failed, by op and code");
  metrics_.describe("zhsm_fuse_open_inodes", "gauge", "Inodes this mount has open");
  metrics_.describe("zhsm_fuse_open_handles", "gauge", "Open file handles of this mount");
  metrics_.describe("zhsm_fuse_releases_pending", "gauge",
                    "Tokens of closed files waiting to be released with the controller");
  metrics_.describe("zhsm_fuse_tokens_released_total", "counter",
                    "Tokens released with the controller (several per release call)");
  metrics_.describe("zhsm_fuse_dir_leases", "gauge",
                    "Directories leased to this mount (it knows every name in them)");
  metrics_.describe("zhsm_fuse_lookups_known_missing_total", "counter",
                    "Lookups answered as missing by this mount, in a leased directory");
  metrics_.on_scrape([this](Metrics& m) {
    m.set("zhsm_fuse_dir_leases", static_cast<double>(dir_leases_.size()));
    m.set("zhsm_fuse_lookups_known_missing_total",
          static_cast<double>(known_missing_.load(std::memory_order_relaxed)));
    for (const auto& r : fuse_requests_.rows()) {
      const std::string label = fmt::format("op=\"{}\"", r.name);
      m.set("zhsm_fuse_requests_total", static_cast<double>(r.count), label);
      m.set("zhsm_fuse_request_seconds_sum", r.seconds, label);
      m.set("zhsm_fuse_request_seconds_count", static_cast<double>(r.count), label);
    }
    for (const auto& r : controller_calls_.rows()) {
      const std::string label = fmt::format("op=\"{}\"", r.name);
      m.set("zhsm_fuse_controller_calls_total", static_cast<double>(r.count), label);
      m.set("zhsm_fuse_controller_call_seconds_sum", r.seconds, label);
    }
    for (const auto& r : server_calls_.rows()) {
      const std::string label = fmt::format("op=\"{}\"", r.name);
      m.set("zhsm_fuse_server_calls_total", static_cast<double>(r.count), label);
      m.set("zhsm_fuse_server_call_seconds_sum", r.seconds, label);
    }
    if (!open_files_) return;
    auto counts = open_files_->counts();
    m.set("zhsm_fuse_open_inodes", static_cast<double>(counts.inodes));
    m.set("zhsm_fuse_open_handles", static_cast<double>(counts.handles));
    if (releases_) m.set("zhsm_fuse_releases_pending", static_cast<double>(releases_->pending()));
  });
}

// Every request is counted without a lock or an allocation (request_stats.h); failures,
// rarer, go to the registry directly, and a count that finds no memory is lost.
void Mount::count_request(const char* op, std::chrono::steady_clock::duration took) noexcept {
  fuse_requests_.add(op, took);
}

void Mount::count_failure(const char* op, Errc code) noexcept {
  try {
    metrics_.add("zhsm_fuse_errors_total", 1,
                 fmt::format("op=\"{}\",code=\"{}\"", op, errc_name(code)));
  } catch (...) {
  }
}

// The endpoint is a help, not a need: a mount whose address cannot be bound goes on
// without it and says so once.
void Mount::start_metrics() {
  if (options_.metrics.empty()) return;
  try {
    metrics_server_ = std::make_unique<MetricsServer>(*io_, options_.metrics, metrics_);
    metrics_server_->start();
    const std::string address =
        host_of(options_.metrics) + ":" + std::to_string(metrics_server_->port());
    if (!options_.port_file.empty()) write_port_file(options_.port_file, "metrics=" + address + "\n");
    spdlog::info("event=metrics_listening address={}", address);
  } catch (const std::exception& e) {
    metrics_server_.reset();
    spdlog::warn("event=metrics_unavailable address={} msg=\"{}\"", options_.metrics, e.what());
  }
}

void Mount::start() {
  io_ = std::make_unique<asio::io_context>();
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      io_->get_executor());
  controller_ = std::make_unique<ControllerLink>(*io_, options_.controller, client_name_);
  controller_->set_fresh_dirs(&fresh_dirs_);
  lease_keeper_ = std::make_unique<LeaseKeeper>(dir_leases_, *controller_);
  controller_->set_leases(&dir_leases_, lease_keeper_.get());
  controller_->set_metrics(&controller_calls_, &metrics_);
  // File-server calls are counted like the controller's (request_stats.h), failures by code.
  servers_ = std::make_unique<ServerLinks>(
      *io_, [this](proto::Request::Which kind, std::chrono::steady_clock::duration took, Errc code) {
        // request_name() answers string literals: their address names the row.
        const std::string_view op = request_name(kind);
        server_calls_.add(op.data(), took);
        if (code != Errc::ok)
          metrics_.add("zhsm_fuse_server_errors_total", 1,
                       fmt::format("op=\"{}\",code=\"{}\"", op, errc_name(code)));
      });
  data_ = std::make_unique<DataContext>(DataContext{*controller_, *servers_, hello_.geometry});
  open_files_ = std::make_unique<OpenTable>(*data_);
  releases_ = std::make_unique<ReleaseBatcher>(
      [this](const std::vector<uint64_t>& tokens) { send_releases(tokens); },
      std::chrono::milliseconds(options_.release_delay_ms), kReleaseBatch);
  start_metrics();
  io_thread_ = std::thread([this] { io_->run(); });
  say_hello();
  renew_thread_ = std::thread([this] { renew_loop(); });
}

void Mount::say_hello() {
  try {
    HelloInfo info = hello_on(*controller_, client_name_);
    hello_.client_id = info.client_id;
    controller_->set_client_id(info.client_id);
    spdlog::info("event=hello controller={} client_id={} chunk_size={} inline_max={} token_lifetime_ms={}",
                 options_.controller, info.client_id, info.geometry.chunk_size,
                 info.geometry.inline_max, info.geometry.token_lifetime_ms);
  } catch (const Error& e) {
    spdlog::warn("event=controller_unreachable controller={} code={} msg=\"{}\"",
                 options_.controller, errc_name(e.code()), e.what());
  }
}

void Mount::stop() {
  {
    std::lock_guard lock(renew_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  renew_cv_.notify_all();
  if (renew_thread_.joinable()) renew_thread_.join();
  if (!io_) return;
  lease_keeper_->stop();   // gives the leases back while the controller link still works
  releases_->flush();  // what is pending goes while the controller link still works
  links_closed_ = true;
  controller_->close();
  servers_->close_all();
  work_.reset();
  io_->stop();
  if (io_thread_.joinable()) io_thread_.join();
  metrics_server_.reset();
  releases_.reset();
}

void Mount::renew_loop() {
  auto period = std::chrono::milliseconds(
      std::max<uint64_t>(1000, hello_.geometry.token_lifetime_ms / 3));
  std::unique_lock lock(renew_mu_);
  while (!renew_cv_.wait_for(lock, period, [this] { return stopping_; })) {
    lock.unlock();
    for (auto& inode : open_files_->snapshot()) {
      inode->renew_tokens();
      inode->commit_if_idle(kIdleCommitNs);
    }
    lock.lock();
  }
}

FileHandle* Mount::open_handle(uint64_t ino, proto::OpenReply::Reader reply, bool truncated,
                               bool append) {
  auto handle = std::make_unique<FileHandle>();
  std::shared_ptr<OpenInode> already = open_files_->find(ino);
  uint64_t cached = already ? already->cache_version() : remembered_version(ino);
  handle->inode = open_files_->attach(ino);
  handle->token_id = reply.getToken().getTokenId();
  handle->can_write = TokenCopy::from(reply.getToken()).can_write();
  handle->append = append;
  try {
    handle->inode->adopt(reply, truncated);
  } catch (...) {
    open_files_->detach(ino);
    throw;
  }
  // Close-to-open with the page cache kept: the pages the kernel holds are
  // still right when the inode's version is the one they were filled at.
  handle->keep_cache = !truncated && cached != 0 && cached == reply.getAttr().getVersion() &&
                       handle->inode->cache_version() == cached;
  return handle.release();
}

void Mount::release_handle(FileHandle* raw) {
  std::unique_ptr<FileHandle> handle(raw);
  auto& inode = *handle->inode;
  if (handle->can_write && (inode.dirty() || inode.held_attr())) {
    try {
      inode.commit(handle->token_id);
    } catch (const std::exception& e) {
      spdlog::warn("event=release_commit_failed ino={} msg=\"{}\"", inode.ino(), e.what());
    }
  }
  // Tokens to release: the handle's, unless the inode keeps it for the tokenless handles
  // that remain, and the inode's own after its last handle.
  uint64_t releases[2] = {handle->token_id, 0};
  const bool last = open_files_->detach(inode.ino());
  if (!last && inode.keep_token(handle->token_id))
    releases[0] = 0;
  else
    inode.forget_token(handle->token_id);
  if (last) {
    releases[1] = inode.take_own_token();
    if (inode.dirty())
      inode.abandon();
    else
      remember_version(inode.ino(), inode.cache_version());
  }
  // 0: none (an inline file opened without a token).
  for (uint64_t token_id : releases) releases_->add(token_id);
}

void Mount::send_releases(const std::vector<uint64_t>& tokens) {
  if (tokens.empty() || links_closed_) return;  // stopped: the tokens expire instead
  try {
    controller_->call([&](proto::Request::Builder req) {
      auto r = req.initRelease();
      r.setTokenId(tokens[0]);
      auto more = r.initMore(static_cast<unsigned>(tokens.size() - 1));
      for (size_t i = 1; i < tokens.size(); ++i) more.set(static_cast<unsigned>(i - 1), tokens[i]);
    }, Retry::idempotent);
    metrics_.add("zhsm_fuse_tokens_released_total", static_cast<double>(tokens.size()));
  } catch (const Error& e) {
    // The tokens expire at the controller instead.
    spdlog::warn("event=release_failed tokens={} first={} code={} msg=\"{}\"", tokens.size(),
                 tokens[0], errc_name(e.code()), e.what());
  }
}

void Mount::sync() {
  commit_held(0);
  controller_->call([](proto::Request::Builder req) { req.setSync(); }, Retry::idempotent);
}

void Mount::commit_held(uint64_t ino) {
  auto commit = [](OpenInode& inode) {
    if (!inode.held_attr()) return;
    if (uint64_t token = inode.write_token(); token != 0) inode.commit(token);
  };
  if (ino != 0) {
    if (auto inode = open_files_->find(ino)) commit(*inode);
    return;
  }
  for (const auto& inode : open_files_->snapshot()) commit(*inode);
}

uint64_t Mount::remembered_version(uint64_t ino) {
  std::lock_guard lock(cache_mu_);
  auto it = cache_versions_.find(ino);
  return it == cache_versions_.end() ? 0 : it->second;
}

void Mount::remember_version(uint64_t ino, uint64_t version) {
  std::lock_guard lock(cache_mu_);
  // Bounded: forgetting only costs a re-read of pages that may still be right.
  if (cache_versions_.size() >= kRememberedVersions) cache_versions_.clear();
  cache_versions_[ino] = version;
}

bool Mount::open_orphan_stat(uint64_t ino, struct stat& st) {
  auto inode = open_files_->find(ino);
  if (!inode) return false;
  st = inode->last_stat();
  st.st_nlink = 0;
  overlay(st);
  return true;
}

void Mount::overlay(struct stat& st, bool fresh) {
  if (auto inode = open_files_->find(st.st_ino)) {
    if (fresh) inode->note_stat(st);
    inode->notice_attr(static_cast<uint64_t>(st.st_size),
                       int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec);
    if (auto size = inode->pending_size()) {
      st.st_size = static_cast<off_t>(*size);
      st.st_blocks = static_cast<blkcnt_t>((*size + 511) / 512);
    }
    auto ts = [](int64_t ns) {
      return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    };
    auto ctime_at_least = [&](const timespec& t) {
      if (st.st_ctim.tv_sec < t.tv_sec ||
          (st.st_ctim.tv_sec == t.tv_sec && st.st_ctim.tv_nsec < t.tv_nsec))
        st.st_ctim = t;
    };
    // A write changes mtime and ctime at once, as on a local filesystem; the commit
    // will record this mtime.
    if (auto mtime = inode->pending_mtime()) {
      st.st_mtim = ts(*mtime);
      ctime_at_least(st.st_mtim);
    }
    // A change of mode or times held for the next commit (OpenInode::hold_attr).
    if (auto held = inode->held_attr()) {
      const SetattrArgs& h = held->change;
      if (h.set_mode) st.st_mode = (st.st_mode & S_IFMT) | (h.mode & 07777);
      if (h.set_atime) st.st_atim = ts(h.atime_ns);
      if (h.set_mtime) st.st_mtim = ts(h.mtime_ns);
      ctime_at_least(ts(held->ctime_ns));
    }
  }
}

}  // namespace zhsm::fuse
