// OpenInode writes and truncation. Inline files change in memory while they stay
// within inline_max; a write past it moves the bytes into a new chunk 0 on the
// write target. Chunked writes go into one write session per chunk, begun on
// first use (beginWrite keeps the chunk's current bytes, or starts a new object
// with a fresh UUID on the write target) and fed with writeObject. O_APPEND writes
// take the path of open_inode_append.cc.
#include <algorithm>
#include <cstring>
#include <limits>

#include "client-fuse/chunk_map.h"
#include "client-fuse/open_inode.h"
#include "common/clock.h"

#include <fmt/format.h>

namespace zhsm::fuse {

namespace {
constexpr uint64_t kMaxWriteObject = 4 << 20;
}

uint64_t OpenInode::write(uint64_t token_id, uint64_t offset, const char* data, uint64_t length,
                          bool append, const std::function<bool()>& interrupted) {
  if (append) return this->append(token_id, data, length, interrupted);
  std::unique_lock lock(mu_);
  return write_locked(token_id, offset, data, length);
}

uint64_t OpenInode::write_locked(uint64_t token_id, uint64_t offset, const char* data,
                                 uint64_t length) {
  if (length == 0) return 0;
  if (offset > std::numeric_limits<int64_t>::max() - length)
    throw Error(Errc::invalid, "write past the largest file offset");
  uint64_t end = offset + length;
  if (inline_) {
    if (stays_inline(std::max(size_, end), ctx_.geometry.inline_max)) {
      if (inline_data_.size() < end) inline_data_.resize(end, '\0');
      std::memcpy(inline_data_.data() + offset, data, length);
      size_ = inline_data_.size();
      touch_locked();
      publish();
      return length;
    }
    convert_to_chunks(token_id);
  }
  write_chunks(token_id, offset, data, length);
  size_ = std::max(size_, end);
  touch_locked();
  publish();
  return length;
}

void OpenInode::touch_locked() {
  dirty_ = true;
  mtime_ns_ = now_ns();
  std::lock_guard lock(held_mu_);
  if (held_) held_->change.set_mtime = false;
}

void OpenInode::convert_to_chunks(uint64_t token_id) {
  std::string bytes = std::move(inline_data_);
  inline_data_.clear();
  inline_ = false;
  chunks_.clear();
  const auto cut = lost_cut_;
  const auto deferred = deferred_error_;
  try {
    if (!bytes.empty()) write_chunks(token_id, 0, bytes.data(), bytes.size());
  } catch (...) {
    // Back to the inline bytes, all of them still here: nothing accepted was lost.
    for (auto& [index, s] : sessions_) drop_session(s);
    sessions_.clear();
    inline_ = true;
    inline_data_ = std::move(bytes);
    lost_cut_ = cut;
    deferred_error_ = deferred;
    publish();
    throw;
  }
  drop_inline_ = true;
  dirty_ = true;
}

void OpenInode::write_chunks(uint64_t token_id, uint64_t offset, const char* data,
                             uint64_t length) {
  for (const auto& p : map_range(offset, length, ctx_.geometry.chunk_size, kMaxWriteObject)) {
    Session& s = ensure_session(token_id, p.index);
    try {
      s.pipe.send(*s.link, s.id, p.chunk_offset, data + p.range_offset, p.length);
    } catch (const Error& e) {
      session_failed_locked(p.index, e);
    }
    s.length = std::max(s.length, p.chunk_offset + p.length);
  }
}

void OpenInode::session_failed_locked(uint64_t index, const Error& e) {
  Session& s = sessions_.at(index);
  const Uuid uuid = s.uuid;
  const std::string server = s.link->address();
  drop_session(s);
  sessions_.erase(index);
  lose_chunk_locked(index, e.code(), true);
  publish();
  data_failure("write", e.code(), e.what(), uuid, server);
}

OpenInode::Session& OpenInode::ensure_session(uint64_t token_id, uint64_t index) {
  if (auto it = sessions_.find(index); it != sessions_.end()) return it->second;
  Uuid uuid;
  uint64_t keep = 0;
  std::vector<Copy> candidates;
  if (auto c = chunks_.find(index); c != chunks_.end()) {
    uuid = c->second.uuid;
    keep = c->second.size;
    candidates = c->second.copies;
  } else {
    if (!write_target_) {
      throw Error(Errc::no_space, fmt::format("no write target for ino {}", ino_));
    }
    uuid = Uuid::random();
    // A striped file: this chunk's own target first, the file's target after it.
    if (!write_targets_.empty())
      candidates.push_back(write_targets_[index % write_targets_.size()]);
    if (candidates.empty() || !(candidates.front().backend == write_target_->backend))
      candidates.push_back(*write_target_);
  }
  Errc error = Errc::io;
  std::string message = "no current copy known";
  std::string server = "none";
  for (const auto& copy : candidates) {
    auto link = ctx_.servers.get(copy.address);
    server = copy.address;
    Reply r = server_call(*link, token_id, true, [&](proto::Request::Builder req, const TokenCopy& t) {
      auto b = req.initBeginWrite();
      t.write_to(b.initToken());
      b.setBackend(copy.backend.data());
      b.setUuid(uuid.data());
      b.setIndex(index);
      b.setKeepLength(keep);
    });
    if (r.ok() && r.response().which() == proto::Response::BEGIN_WRITE) {
      Session s{link, r.response().getBeginWrite().getSessionId(), copy.backend, uuid, keep};
      return sessions_.emplace(index, std::move(s)).first->second;
    }
    error = r.ok() ? Errc::internal : r.code();
    message = r.ok() ? "unexpected answer to beginWrite" : r.message();
  }
  data_failure("begin_write", error, message, uuid, server);
}

void OpenInode::truncate(uint64_t token_id, uint64_t size) {
  std::unique_lock lock(mu_);
  const uint64_t cs = ctx_.geometry.chunk_size;
  if (inline_) {
    if (stays_inline(size, ctx_.geometry.inline_max)) {
      inline_data_.resize(size, '\0');
      size_ = size;
    } else {
      if (inline_data_.size() > size) inline_data_.resize(size);
      convert_to_chunks(token_id);
      size_ = size;
    }
  } else {
    if (size < size_) {
      for (auto it = sessions_.begin(); it != sessions_.end();) {
        if (chunk_bytes_below(it->first, size, cs) == 0) {
          drop_session(it->second);
          it = sessions_.erase(it);
        } else {
          ++it;
        }
      }
      std::erase_if(chunks_, [&](const auto& kv) { return chunk_bytes_below(kv.first, size, cs) == 0; });
      std::erase_if(pending_, [&](const auto& kv) { return chunk_bytes_below(kv.first, size, cs) == 0; });
      uint64_t k = chunk_index(size, cs);
      uint64_t keep = size % cs;
      if (keep > 0) {
        if (auto s = sessions_.find(k); s != sessions_.end()) {
          if (s->second.length > keep) {
            Session& ss = s->second;
            try {
              ss.pipe.drain();
            } catch (const Error& e) {
              session_failed_locked(k, e);
            }
            Reply r = ss.link->call([&](proto::Request::Builder req) {
              auto t = req.initTruncateObject();
              t.setSessionId(ss.id);
              t.setLength(keep);
            });
            if (!r.ok()) data_failure("truncate", r.code(), r.message(), ss.uuid, ss.link->address());
            ss.length = keep;
          }
        } else if (auto c = chunks_.find(k); c != chunks_.end() && c->second.size > keep) {
          c->second.size = keep;
          ensure_session(token_id, k);  // the rewrite keeps the first `keep` bytes
        }
      }
    }
    size_ = size;
  }
  touch_locked();
  publish();
  commit_locked(token_id);
}

}  // namespace zhsm::fuse
