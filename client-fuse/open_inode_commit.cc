// OpenInode commit (flush, fsync, last close, truncate): first commitWrite every
// open session on its file server (durable there), then commitData with the
// controller (size, mtime, the new chunk versions, the inline bytes or
// dropInline). Success only when both are done; what the file servers committed
// is kept in pending_ so a later attempt still records it. A chunk whose session
// failed does not stop the others from being recorded, with a size that claims none
// of its lost bytes (OpenInode::lose_chunk_locked); the commit then throws the failure.
// A change of mode or times held for the commit (hold_attr) rides in its call.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <future>
#include <map>
#include <memory>

#include "client-fuse/attr.h"
#include "client-fuse/chunk_map.h"
#include "client-fuse/open_inode.h"
#include "common/clock.h"

namespace zhsm::fuse {

bool OpenInode::commit(uint64_t token_id) {
  std::unique_lock lock(mu_);
  const bool changes = dirty_ || !sessions_.empty() || !pending_.empty();
  commit_reporting(token_id, nullptr, nullptr);
  return changes;
}

std::optional<struct stat> OpenInode::commit_then(uint64_t token_id, const SetattrFill& then) {
  std::unique_lock lock(mu_);
  std::optional<struct stat> attr;
  commit_reporting(token_id, &then, &attr);
  return attr;
}

void OpenInode::commit_reporting(uint64_t token_id, const SetattrFill* then,
                                 std::optional<struct stat>* then_attr) {
  std::optional<Errc> earlier = deferred_error_;
  deferred_error_.reset();
  commit_locked(token_id, then, then_attr);
  if (earlier)
    throw Error(*earlier, fmt::format("data of ino {} that an earlier write accepted was lost "
                                      "(a write or a background commit failed)", ino_));
}

void OpenInode::commit_if_idle(int64_t idle_ns) {
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  if (!dirty_ && sessions_.empty() && pending_.empty()) return;
  if (mtime_ns_ != 0 && now_ns() - mtime_ns_ < idle_ns) return;
  uint64_t token = write_token();
  if (token == 0) return;
  try {
    commit_locked(token);
    spdlog::info("event=idle_commit ino={} size={}", ino_, size_);
  } catch (const std::exception& e) {
    spdlog::warn("event=idle_commit_failed ino={} msg=\"{}\"", ino_, e.what());
    const auto* err = dynamic_cast<const Error*>(&e);
    deferred_error_ = data_errc(err ? err->code() : Errc::io);
  }
}

bool OpenInode::hold_attr(const SetattrArgs& a, int64_t now_ns) {
  std::unique_lock lock(mu_);
  if (!dirty_ && sessions_.empty() && pending_.empty()) return false;
  std::lock_guard held_lock(held_mu_);
  if (held_ && (held_->change.caller_uid != a.caller_uid ||
                held_->change.caller_gid != a.caller_gid))
    return false;
  if (!held_) held_.emplace();
  merge_setattr(held_->change, a);
  held_->ctime_ns = now_ns;
  return true;
}

std::optional<OpenInode::HeldAttr> OpenInode::held_attr() const {
  std::lock_guard lock(held_mu_);
  return held_;
}

void OpenInode::send_held_locked(uint64_t token_id) {
  std::optional<HeldAttr> held;
  {
    std::lock_guard lock(held_mu_);
    held.swap(held_);
  }
  if (!held) return;
  const SetattrArgs& c = held->change;
  if (!c.set_mode && !c.set_atime && !c.set_mtime) return;  // a later write voided it all
  Reply r = ctx_.controller.call([&](proto::Request::Builder req) {
    auto s = req.initSetattr();
    fill_setattr(s, ino_, c);
    s.setTokenId(token_id);
  }, Retry::idempotent);
  if (r.response().which() == proto::Response::ATTR) note_stat(stat_from(r.response().getAttr()));
}

void OpenInode::note_stat(const struct stat& st) {
  std::lock_guard lock(stat_mu_);
  last_stat_ = st;
}

void OpenInode::commit_locked(uint64_t token_id, const SetattrFill* then,
                              std::optional<struct stat>* then_attr) {
  if (!dirty_ && sessions_.empty() && pending_.empty()) {
    send_held_locked(token_id);  // pending changes voided by a truncating open
    return;
  }
  const int64_t mtime = mtime_ns_ != 0 ? mtime_ns_ : now_ns();
  std::optional<Error> failure;
  auto fail = [&](Errc code, uint64_t index, const Session& s, const std::string& message) {
    spdlog::warn("event=data_error op=commit_write ino={} uuid={} server={} code={} msg=\"{}\"",
                 ino_, s.uuid.str(), s.link->address(), errc_name(code), message);
    lose_chunk_locked(index, code, false);
    drop_session(s);  // the server keeps a failed session until told (its answer to every piece)
    if (!failure)
      failure = Error(data_errc(code),
                      fmt::format("commit of ino {} chunk {} failed: {}", ino_, index, message));
  };
  // Every session's writes first, then all commits at once: the file servers
  // hash, fsync and rename the chunks in parallel.
  std::map<uint64_t, std::future<Reply>> commits;
  for (auto& [index, s] : sessions_) {
    try {
      s.pipe.drain();
    } catch (const Error& e) {
      fail(e.code(), index, s, e.what());
      continue;
    }
    auto promise = std::make_shared<std::promise<Reply>>();
    commits.emplace(index, promise->get_future());
    const uint64_t id = s.id;
    auto fill = [&](proto::Request::Builder req) {
      auto c = req.initCommitWrite();
      c.setSessionId(id);
      c.setMtimeNs(mtime);
    };
    s.link->start_call(fill, std::chrono::seconds(300),
                       [promise](Reply r) { promise->set_value(std::move(r)); });
  }
  for (auto it = sessions_.begin(); it != sessions_.end(); it = sessions_.erase(it)) {
    const uint64_t index = it->first;
    Session& s = it->second;
    auto c = commits.find(index);
    if (c == commits.end()) continue;  // its writes failed: reported above
    Reply r = c->second.get();
    if (!r.ok() || r.response().which() != proto::Response::COMMIT_WRITE) {
      fail(r.ok() ? Errc::internal : r.code(), index, s,
           r.ok() ? "unexpected answer to commitWrite" : r.message());
      continue;
    }
    auto cw = r.response().getCommitWrite();
    auto sha = cw.getSha256();
    Update u{s.uuid, cw.getVersion(), cw.getSize(),
             std::string(reinterpret_cast<const char*>(sha.begin()), sha.size()), s.backend};
    pending_[index] = u;
    chunks_[index] = Chunk{s.uuid, u.version, u.size, {Copy{s.backend, s.link->address()}}};
  }
  publish();
  // A chunk that failed still lets the others be recorded, with a size that claims none
  // of the lost bytes (lose_chunk_locked); the failure is thrown once that is done. The
  // caller's setattr then waits: it gets the failure.
  if (failure) then = nullptr;
  const uint64_t size = recordable_size_locked();
  // What is held goes with this commit (in front of the caller's setattr), unless a chunk
  // failed: then it waits for the next one.
  std::optional<HeldAttr> held = failure ? std::nullopt : held_attr();
  bool held_alone = false;  // the pair was refused: the commit alone, then the held change

  for (int attempt = 0;; ++attempt) {
    TokenCopy t = token_for(token_id, true);
    try {
      Reply r = ctx_.controller.call([&](proto::Request::Builder req) {
        auto cd = req.initCommitData();
        cd.setIno(ino_);
        cd.setTokenId(t.id);
        cd.setSize(size);
        cd.setMtimeNs(mtime);
        auto list = cd.initChunks(static_cast<unsigned>(pending_.size()));
        unsigned i = 0;
        for (const auto& [index, u] : pending_) {
          auto cu = list[i++];
          cu.setIndex(index);
          cu.setUuid(u.uuid.data());
          cu.setVersion(u.version);
          cu.setSize(u.size);
          cu.setSha256(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(u.sha256.data()),
                                           u.sha256.size()));
          cu.setBackend(u.backend.data());
        }
        if (inline_) {
          cd.setSetInline(true);
          cd.setInlineData(capnp::Data::Reader(
              reinterpret_cast<const kj::byte*>(inline_data_.data()), inline_data_.size()));
        }
        if (drop_inline_) cd.setDropInline(true);
        if (held || then) {
          auto s = cd.initThenSetattr();
          if (held) fill_setattr(s, ino_, held->change);
          if (then) (*then)(s);
        }
      }, Retry::idempotent);
      if (r.response().which() == proto::Response::ATTR) {
        // The view others will see, and exactly what the kernel's pages hold.
        view_size_.store(r.response().getAttr().getSize());
        view_mtime_ns_.store(r.response().getAttr().getMtimeNs());
        cache_version_.store(r.response().getAttr().getVersion());
        note_stat(stat_from(r.response().getAttr()));
        if (then) *then_attr = stat_from(r.response().getAttr());
      }
      if (held) {
        std::lock_guard lock(held_mu_);
        held_.reset();  // changed only under mu_, which this commit holds
      }
      break;
    } catch (const Error& e) {
      if (e.code() == Errc::token_expired && attempt == 0) {
        renew(t.id);
        continue;
      }
      if (then || held) {
        // Either half may have refused: the commit alone, then the setattr (the caller's
        // own, or the held one below), tell which (a commit that went through is repeated
        // harmlessly).
        spdlog::info("event=commit_then_retry ino={} code={} msg=\"{}\"", ino_,
                     errc_name(e.code()), e.what());
        then = nullptr;
        held_alone = held.has_value();
        held.reset();
        attempt = -1;
        continue;
      }
      spdlog::warn("event=data_error op=commit_data ino={} code={} msg=\"{}\"", ino_,
                   errc_name(e.code()), e.what());
      if (failure) throw *failure;
      throw Error(data_errc(e.code()),
                  fmt::format("commitData of ino {} failed: {}", ino_, e.what()));
    }
  }
  pending_.clear();
  dirty_ = false;
  drop_inline_ = false;
  mtime_ns_ = 0;
  if (lost_cut_) {  // the file is what was recorded: nothing past the cut
    const uint64_t cs = ctx_.geometry.chunk_size;
    size_ = size;
    std::erase_if(chunks_,
                  [&](const auto& kv) { return chunk_bytes_below(kv.first, size, cs) == 0; });
    if (auto last = chunks_.rbegin(); last != chunks_.rend())
      last->second.size = std::min(last->second.size, chunk_bytes_below(last->first, size, cs));
    lost_cut_.reset();
  }
  publish();
  if (failure) throw *failure;
  if (held_alone) send_held_locked(token_id);
}

}  // namespace zhsm::fuse
