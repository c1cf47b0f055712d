// Open files for MemMetaStore: open and create (with truncation), tokens (release,
// renewal, expiry), commitData (the controller's half of a write session, see
// doc/architecture.md) and the sweeper's reclaiming of orphans, following
// controller/db/pg_open.cc. commitData checks every chunk update (backend known, object
// not used by another chunk) before it changes anything, as the PostgreSQL transaction
// would roll back.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "controller/mem_meta_store.h"
#include "controller/meta_checks.h"
#include "controller/names.h"

namespace zhsm {

uint64_t MemMetaStore::erase_token(std::map<uint64_t, Token>::iterator it) {
  const uint64_t ino = it->second.ino;
  tokens_.erase(it);
  auto count = tokens_per_inode_.find(ino);
  if (count != tokens_per_inode_.end() && --count->second == 0) tokens_per_inode_.erase(count);
  return ino;
}

OpenResult MemMetaStore::open(const OpenArgs& a) {
  check_access_mode(a.mode);
  auto lock = begin();
  Inode& inode = get(a.ino);
  if (wants_no_token(a) && inode.attr.type == proto::FileType::REGULAR &&
      load_chunks(a.ino).empty() && inode.attr.size <= settings_.inline_max) {
    OpenResult out;
    out.attr = inode.attr;
    out.token = TokenInfo{0, inode.attr.fsid, a.ino, a.mode, 0, a.client_id};
    out.is_inline = true;
    out.inline_data = load_inline(inode);
    return out;
  }
  return open_inode(inode, a.mode, a.truncate, a.client_id);
}

OpenResult MemMetaStore::create(const CreateArgs& a) {
  check_name(a.name);
  check_access_mode(a.access);
  auto lock = begin();
  const InodeAttr parent = dir(a.parent, "parent directory").attr;
  if (parent.nlink == 0)
    throw Error(Errc::not_found, fmt::format("directory {} has been removed", a.parent));
  if (auto existing = entry(a.parent, a.name)) {
    if (a.exclusive)
      throw Error(Errc::exists, fmt::format("create: '{}' in directory {} already exists",
                                            printable_name(a.name), a.parent));
    Inode& inode = get(*existing);
    if (inode.is_dir())
      throw Error(Errc::is_dir, fmt::format("create: '{}' in directory {} is a directory",
                                            printable_name(a.name), a.parent));
    return open_inode(inode, a.access, a.truncate, a.client_id);
  }
  uint32_t gid = parent.mode & 02000 ? parent.gid : a.caller.gid;
  Inode& inode = insert_inode(proto::FileType::REGULAR, a.mode & 07777, a.caller.uid, gid, 1, 0,
                              a.parent, {});
  add_entry(a.parent, a.name, inode.attr.ino);
  touch_dir(a.parent, 0);
  OpenResult out = open_inode(inode, a.access, false, a.client_id);
  out.dirs = {get(a.parent).attr};
  return out;
}

OpenResult MemMetaStore::open_inode(Inode& inode, proto::AccessMode mode, bool truncate,
                                    uint64_t client_id) {
  const uint64_t ino = inode.attr.ino;
  const bool regular = inode.attr.type == proto::FileType::REGULAR;
  if (inode.is_dir() && (grants_write(mode) || truncate))
    throw Error(Errc::is_dir, fmt::format("open: inode {} is a directory ({} access)", ino,
                                          access_mode_name(mode)));
  if (truncate && regular) {
    drop_chunks_from(ino, 0);
    inode.attr.size = 0;
    inode.inline_data.reset();
    inode.attr.mtime_ns = inode.attr.ctime_ns = now_ns();
    ++inode.attr.version;
  }
  OpenResult out;
  out.attr = inode.attr;
  out.token.token_id = next_token_++;
  out.token.fsid = inode.attr.fsid;
  out.token.ino = ino;
  out.token.mode = mode;
  out.token.client_id = client_id;
  out.token.expires_ms = static_cast<uint64_t>(now_ms() + options_.token_lifetime_ms);
  tokens_.emplace(out.token.token_id,
                  Token{ino, client_id, mode, static_cast<int64_t>(out.token.expires_ms)});
  ++tokens_per_inode_[ino];
  if (regular) {
    out.chunks = load_chunks(ino);
    out.is_inline = out.chunks.empty() && inode.attr.size <= settings_.inline_max;
    if (out.is_inline) out.inline_data = load_inline(inode);
    if (grants_write(mode))
      out.write_target =
          choose_write_target(backend_candidates(), now_ms(), options_.heartbeat_timeout_ms);
  }
  return out;
}

void MemMetaStore::release(uint64_t token_id) {
  auto lock = begin();
  auto it = tokens_.find(token_id);
  if (it == tokens_.end()) return;
  uint64_t ino = erase_token(it);
  if (reclaim_if_unused(ino))
    spdlog::info("event=orphan_reclaimed ino={} token={}", ino, token_id);
}

void MemMetaStore::release_many(const std::vector<uint64_t>& token_ids) {
  for (uint64_t id : token_ids) release(id);
}

TokenInfo MemMetaStore::renew_token(uint64_t token_id) {
  auto lock = begin();
  auto it = tokens_.find(token_id);
  if (it == tokens_.end())
    throw Error(Errc::bad_token,
                fmt::format("token {} is unknown (released or expired)", token_id));
  Token& t = it->second;
  t.expires_ms = now_ms() + options_.token_lifetime_ms;
  TokenInfo info;
  info.token_id = token_id;
  info.fsid = get(t.ino).attr.fsid;
  info.ino = t.ino;
  info.mode = t.mode;
  info.expires_ms = static_cast<uint64_t>(t.expires_ms);
  info.client_id = t.client_id;
  return info;
}

InodeAttr MemMetaStore::commit_data(const CommitArgs& a) {
  check_commit(a, settings_);
  auto lock = begin();
  auto tok = tokens_.find(a.token_id);
  if (tok == tokens_.end())
    throw Error(Errc::bad_token, fmt::format("commitData: token {} is unknown", a.token_id));
  if (tok->second.ino != a.ino)
    throw Error(Errc::bad_token,
                fmt::format("commitData: token {} is not for inode {}", a.token_id, a.ino));
  if (!grants_write(tok->second.mode))
    throw Error(Errc::bad_token,
                fmt::format("commitData: token {} does not grant writing", a.token_id));
  if (tok->second.expires_ms < now_ms())
    throw Error(Errc::token_expired, fmt::format("commitData: token {} expired", a.token_id));
  Inode& inode = get(a.ino);
  if (inode.attr.type != proto::FileType::REGULAR)
    throw Error(Errc::invalid, fmt::format("commitData: inode {} is not a regular file", a.ino));
  check_chunk_updates(a);
  if (a.then) {
    if (a.then->mode) inode.attr.mode = *a.then->mode;
    if (a.then->uid) inode.attr.uid = *a.then->uid;
    if (a.then->gid) inode.attr.gid = *a.then->gid;
    if (a.then->atime_ns) inode.attr.atime_ns = *a.then->atime_ns;
  }
  for (const auto& u : a.chunks) apply_chunk_update(a.ino, u);
  if (a.set_inline) {
    drop_chunks_from(a.ino, 0);
    inode.inline_data = a.inline_data.substr(0, a.size);
  } else if (a.drop_inline) {
    inode.inline_data.reset();
  }
  if (inode.inline_data && inode.inline_data->size() > a.size) inode.inline_data->resize(a.size);
  inode.attr.size = a.size;
  inode.attr.mtime_ns = a.mtime_ns;
  inode.attr.ctime_ns = now_ns();
  ++inode.attr.version;
  fit_chunks(a.ino, a.size);
  if (inode.inline_data && (a.size > settings_.inline_max || has_chunks(a.ino)))
    inode.inline_data.reset();
  return inode.attr;
}

void MemMetaStore::check_chunk_updates(const CommitArgs& a) const {
  std::map<uint64_t, Uuid> layout;  // this file's objects as the updates so far leave them
  std::set<Uuid> used;
  if (auto file = chunks_.find(a.ino); file != chunks_.end())
    for (const auto& [index, chunk] : file->second) {
      layout[index] = chunk.uuid;
      used.insert(chunk.uuid);
    }
  for (const auto& u : a.chunks) {
    if (!backends_.count(u.backend))
      throw Error(Errc::invalid, fmt::format("commitData: chunk {} names unknown backend {}",
                                             u.index, u.backend.str()));
    auto cur = layout.find(u.index);
    if (cur != layout.end() && cur->second == u.uuid) continue;
    if (cur != layout.end()) used.erase(cur->second);
    auto owner = chunk_owner_.find(u.uuid);
    if (used.count(u.uuid) || (owner != chunk_owner_.end() && owner->second.first != a.ino))
      throw Error(Errc::exists, fmt::format("commitData: already exists (object {} is another "
                                            "chunk's data object)",
                                            u.uuid.str()));
    layout[u.index] = u.uuid;
    used.insert(u.uuid);
  }
}

void MemMetaStore::apply_chunk_update(uint64_t ino, const ChunkUpdateArgs& u) {
  auto file = chunks_.find(ino);
  if (file != chunks_.end()) {
    auto cur = file->second.find(u.index);
    if (cur != file->second.end() && cur->second.uuid == u.uuid) {
      Chunk& c = cur->second;
      if (c.version >= u.version) return;  // versions only move forward
      c.version = u.version;
      c.size = u.size;
      c.sha256 = u.sha256;
      for (auto& [backend, copy] : c.copies)
        if (backend != u.backend && copy.state == proto::CopyState::CURRENT)
          copy.state = proto::CopyState::OUTDATED;
      c.copies[u.backend] = Copy{proto::CopyState::CURRENT, u.version};
      return;
    }
    if (cur != file->second.end()) {  // a new object replaces the old one: its copies go
      spdlog::debug("event=chunk_replaced ino={} index={} old={} new={}", ino, u.index,
                    cur->second.uuid.str(), u.uuid.str());
      enqueue_copies(cur->second);
      chunk_owner_.erase(cur->second.uuid);
      file->second.erase(cur);
    }
  }
  Chunk c;
  c.uuid = u.uuid;
  c.version = u.version;
  c.size = u.size;
  c.sha256 = u.sha256;
  c.copies[u.backend] = Copy{proto::CopyState::CURRENT, u.version};
  chunks_[ino][u.index] = std::move(c);
  chunk_owner_[u.uuid] = {ino, u.index};
}

SweepResult MemMetaStore::sweep() {
  auto lock = begin();
  SweepResult out;
  std::vector<std::pair<int64_t, uint64_t>> expired;  // (expiry, token id), oldest first
  for (const auto& [id, t] : tokens_)
    if (t.expires_ms < now_ms()) expired.emplace_back(t.expires_ms, id);
  std::sort(expired.begin(), expired.end());
  if (expired.size() > kSweepBatch) expired.resize(kSweepBatch);
  std::vector<uint64_t> inos;
  for (const auto& [expiry, id] : expired) {
    inos.push_back(erase_token(tokens_.find(id)));
    ++out.expired_tokens;
  }
  size_t orphans = 0;
  for (const auto& [ino, inode] : inodes_) {
    if (orphans == kSweepBatch) break;
    if (inode.attr.nlink == 0 && !has_tokens(ino)) {
      inos.push_back(ino);
      ++orphans;
    }
  }
  std::sort(inos.begin(), inos.end());
  inos.erase(std::unique(inos.begin(), inos.end()), inos.end());
  for (uint64_t ino : inos) {
    if (reclaim_if_unused(ino)) {
      ++out.reclaimed;
      spdlog::info("event=orphan_reclaimed ino={} reason=sweep", ino);
    }
  }
  out.open_tokens = tokens_.size();
  return out;
}

}  // namespace zhsm
