// OpenInode: adopting open replies, tokens and their renewal, and the one helper
// through which every file-server call goes (token_expired -> renew, retry once).
#include "client-fuse/open_inode.h"

#include <sys/stat.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "client-fuse/attr.h"

namespace zhsm::fuse {

namespace {
constexpr auto kServerTimeout = std::chrono::seconds(120);
}

void OpenInode::adopt(proto::OpenReply::Reader reply, bool reset) {
  auto token = TokenCopy::from(reply.getToken());
  {
    std::lock_guard lock(stat_mu_);
    last_stat_ = stat_from(reply.getAttr());
  }
  {
    std::lock_guard lock(token_mu_);
    if (token.id != 0) tokens_[token.id] = token;  // 0: an inline file opened without one
  }
  std::unique_lock lock(mu_);
  if (token.can_write()) take_write_target(reply);
  if (reset) {
    for (auto& [index, s] : sessions_) drop_session(s);
    sessions_.clear();
    pending_.clear();
    dirty_ = false;
    drop_inline_ = false;
  }
  if (dirty_ || !sessions_.empty() || !pending_.empty()) return;
  load_view(reply);
}

void OpenInode::take_write_target(proto::OpenReply::Reader reply) {
  // The controller's latest choice; none means no backend can take new data.
  write_target_.reset();
  write_targets_.clear();
  for (auto wt : reply.getWriteTargets()) {
    auto backend = Uuid::from_data(wt.getBackend());
    if (!backend || backend->is_nil() || wt.getAddress().size() == 0) {
      write_targets_.clear();  // a malformed list: the single target serves every chunk
      break;
    }
    write_targets_.push_back(Copy{*backend, wt.getAddress()});
  }
  if (reply.hasWriteTarget()) {
    auto wt = reply.getWriteTarget();
    auto backend = Uuid::from_data(wt.getBackend());
    if (backend && !backend->is_nil() && wt.getAddress().size() > 0)
      write_target_ = Copy{*backend, wt.getAddress()};
  }
}

void OpenInode::load_view(proto::OpenReply::Reader reply) {
  cache_version_.store(reply.getAttr().getVersion());
  size_ = reply.getAttr().getSize();
  inline_ = reply.getInline();
  chunks_.clear();
  inline_data_.clear();
  if (inline_) {
    auto data = reply.getInlineData();
    inline_data_.assign(reinterpret_cast<const char*>(data.begin()),
                        std::min<uint64_t>(data.size(), size_));
    inline_data_.resize(size_, '\0');
  } else {
    for (auto c : reply.getChunks()) {
      auto uuid = Uuid::from_data(c.getUuid());
      if (!uuid) continue;
      Chunk chunk{*uuid, c.getVersion(), c.getSize(), {}};
      for (auto copy : c.getCopies()) {
        auto backend = Uuid::from_data(copy.getBackend());
        if (copy.getState() == proto::CopyState::CURRENT && backend && copy.getAddress().size() > 0)
          chunk.copies.push_back(Copy{*backend, copy.getAddress()});
      }
      chunks_[c.getIndex()] = std::move(chunk);
    }
  }
  view_size_.store(size_);
  view_mtime_ns_.store(reply.getAttr().getMtimeNs());
  stale_.store(false);
  publish();
}

struct stat OpenInode::last_stat() {
  struct stat st;
  {
    std::lock_guard lock(stat_mu_);
    st = last_stat_;
  }
  const uint64_t size = view_size_.load();
  const int64_t mtime = view_mtime_ns_.load();
  st.st_size = static_cast<off_t>(size);
  st.st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
  st.st_mtim.tv_sec = mtime / 1000000000;
  st.st_mtim.tv_nsec = mtime % 1000000000;
  return st;
}

void OpenInode::forget_token(uint64_t token_id) {
  std::lock_guard lock(token_mu_);
  tokens_.erase(token_id);
}

uint64_t OpenInode::write_token() {
  std::lock_guard lock(token_mu_);
  for (auto& [id, t] : tokens_)
    if (t.can_write()) return id;
  return 0;
}

std::optional<uint64_t> OpenInode::pending_size() const {
  if (!dirty_shown_.load()) return std::nullopt;
  return size_shown_.load();
}

std::optional<int64_t> OpenInode::pending_mtime() const {
  if (!dirty_shown_.load()) return std::nullopt;
  int64_t mtime = mtime_shown_.load();
  if (mtime == 0) return std::nullopt;
  return mtime;
}

void OpenInode::publish() {
  size_shown_.store(size_);
  mtime_shown_.store(mtime_ns_);
  dirty_shown_.store(dirty_ || !sessions_.empty() || !pending_.empty());
}

const TokenCopy* OpenInode::find_token_locked(uint64_t token_id, bool write) {
  auto it = tokens_.find(token_id);
  if (it != tokens_.end() && (!write || it->second.can_write())) return &it->second;
  for (auto& [id, t] : tokens_)
    if (!write || t.can_write()) return &t;
  return nullptr;
}

TokenCopy OpenInode::token_for(uint64_t token_id, bool write) {
  {
    std::lock_guard lock(token_mu_);
    if (const TokenCopy* t = find_token_locked(token_id, write)) return *t;
  }
  if (write)
    throw Error(Errc::bad_token, fmt::format("ino {} has no open token allowing writes", ino_));
  return open_own_token();
}

TokenCopy OpenInode::open_own_token() {
  std::lock_guard own(own_mu_);
  {
    std::lock_guard lock(token_mu_);
    if (const TokenCopy* t = find_token_locked(0, false)) return *t;  // another thread's
    if (closed_)
      throw Error(Errc::bad_token, fmt::format("ino {} has no open handle left", ino_));
  }
  Reply r = ctx_.controller.call(
      [&](proto::Request::Builder req) {
        auto o = req.initOpen();
        o.setIno(ino_);
        o.setMode(proto::AccessMode::READ);
      },
      Retry::idempotent);
  expect_response(r, proto::Response::OPEN);
  TokenCopy t = TokenCopy::from(r.response().getOpen().getToken());
  if (t.id == 0) throw Error(Errc::internal, "the controller answered an open without a token");
  spdlog::debug("event=own_token_opened ino={} token={}", ino_, t.id);
  std::lock_guard lock(token_mu_);
  tokens_[t.id] = t;
  own_token_ = t.id;
  return t;
}

bool OpenInode::keep_token(uint64_t token_id) {
  std::lock_guard lock(token_mu_);
  if (closed_ || token_id == 0 || tokens_.size() != 1 || tokens_.count(token_id) == 0)
    return false;
  own_token_ = token_id;
  return true;
}

uint64_t OpenInode::take_own_token() {
  std::lock_guard lock(token_mu_);
  closed_ = true;
  uint64_t own = own_token_;
  own_token_ = 0;
  if (own != 0) tokens_.erase(own);
  return own;
}

uint64_t OpenInode::lock_token(uint64_t token_id) {
  if (token_id != 0) return token_id;
  return token_for(0, false).id;
}

void OpenInode::renew(uint64_t token_id) {
  Reply r = ctx_.controller.call(
      [&](proto::Request::Builder req) { req.initRenewToken().setTokenId(token_id); },
      Retry::idempotent);
  expect_response(r, proto::Response::RENEW_TOKEN);
  auto t = TokenCopy::from(r.response().getRenewToken());
  spdlog::debug("event=token_renewed ino={} token={} expires_ms={}", ino_, token_id, t.expires_ms);
  std::lock_guard lock(token_mu_);
  if (tokens_.count(token_id)) tokens_[token_id] = t;
}

void OpenInode::renew_tokens() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(token_mu_);
    for (auto& [id, t] : tokens_) ids.push_back(id);
  }
  for (uint64_t id : ids) {
    try {
      renew(id);
    } catch (const std::exception& e) {
      spdlog::warn("event=token_renew_failed ino={} token={} msg=\"{}\"", ino_, id, e.what());
    }
  }
}

Reply OpenInode::server_call(RpcClient& link, uint64_t token_id, bool write,
                             const TokenFill& fill) {
  for (int attempt = 0;; ++attempt) {
    TokenCopy t = token_for(token_id, write);
    Reply r = link.call([&](proto::Request::Builder req) { fill(req, t); }, kServerTimeout);
    if (r.code() == Errc::token_expired && attempt == 0) {
      renew(t.id);
      continue;
    }
    return r;
  }
}

void OpenInode::data_failure(const char* op, Errc code, const std::string& message,
                             const Uuid& uuid, const std::string& server) {
  spdlog::warn("event=data_error op={} ino={} uuid={} server={} code={} msg=\"{}\"", op, ino_,
               uuid.str(), server, errc_name(code), message);
  throw Error(data_errc(code),
              fmt::format("{} of ino {} failed: {}", op, ino_, message));
}

void OpenInode::drop_session(const Session& s) {
  uint64_t id = s.id;
  s.link->start_call([id](proto::Request::Builder req) { req.initAbortWrite().setSessionId(id); },
                     std::chrono::seconds(10), [](Reply) {});
}

void OpenInode::lose_chunk_locked(uint64_t index, Errc code, bool report) {
  const uint64_t cs = ctx_.geometry.chunk_size;
  auto c = chunks_.find(index);
  const uint64_t cut = index * cs + (c == chunks_.end() ? 0 : c->second.size);
  lost_cut_ = std::min(lost_cut_.value_or(cut), cut);
  if (report) deferred_error_ = data_errc(code);
  spdlog::warn("event=accepted_data_lost ino={} chunk={} size={} recordable={} code={}", ino_,
               index, size_, recordable_size_locked(), errc_name(code));
}

uint64_t OpenInode::recordable_size_locked() const {
  if (!lost_cut_) return size_;
  return std::max(view_size_.load(), std::min(size_, *lost_cut_));
}

void OpenInode::abandon() {
  std::unique_lock lock(mu_);
  if (!sessions_.empty() || !pending_.empty() || dirty_)
    spdlog::warn("event=uncommitted_data_dropped ino={} sessions={} size={}", ino_,
                 sessions_.size(), size_);
  for (auto& [index, s] : sessions_) drop_session(s);
  sessions_.clear();
  pending_.clear();
  dirty_ = false;
  drop_inline_ = false;
  publish();
}

}  // namespace zhsm::fuse
