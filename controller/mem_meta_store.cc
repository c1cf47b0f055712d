// Construction and the building blocks of MemMetaStore (see mem_meta_store.h): inodes and
// directory entries, directory and inode touches, link drops and reclaiming, chunk drops
// and clips that queue copies for deletion, and reading a file's layout. They mirror
// controller/db/inode_txn.cc and pg_layout.cc statement for statement.
#include "controller/mem_meta_store.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/error.h"
#include "controller/meta_checks.h"

namespace zhsm {
namespace {

Settings with_cluster_id(Settings s) {
  if (s.cluster_id.is_nil()) s.cluster_id = Uuid::random();
  return s;
}

}  // namespace

MemMetaStore::MemMetaStore(Settings settings, StoreOptions options)
    : settings_(with_cluster_id(std::move(settings))), options_(std::move(options)) {
  auto lock = begin();
  Inode root;
  root.attr.ino = 1;
  root.attr.fsid = Uuid::random();
  root.attr.type = proto::FileType::DIRECTORY;
  root.attr.mode = 0755;
  root.attr.nlink = 2;
  root.attr.atime_ns = root.attr.mtime_ns = root.attr.ctime_ns = now_ns();
  root.attr.version = 1;
  root.parent = 1;
  inodes_.emplace(1, std::move(root));
  dirs_[1];
}

std::unique_lock<std::mutex> MemMetaStore::begin() const {
  std::unique_lock<std::mutex> lock(mu_);
  op_now_ns_ = options_.clock_ns ? options_.clock_ns() : zhsm::now_ns();
  return lock;
}

MemMetaStore::Counts MemMetaStore::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  Counts c;
  c.inodes = inodes_.size();
  for (const auto& [ino, chunks] : chunks_) {
    c.chunks += chunks.size();
    for (const auto& [index, chunk] : chunks) c.copies += chunk.copies.size();
  }
  c.deletions = deletions_.size();
  c.tokens = tokens_.size();
  for (const auto& [ino, inode] : inodes_) c.inline_files += inode.inline_data ? 1 : 0;
  return c;
}

MemMetaStore::Inode* MemMetaStore::find(uint64_t ino) {
  auto it = inodes_.find(ino);
  return it == inodes_.end() ? nullptr : &it->second;
}

MemMetaStore::Inode& MemMetaStore::get(uint64_t ino, std::string_view what) {
  Inode* inode = find(ino);
  if (!inode) throw Error(Errc::not_found, fmt::format("{} {} does not exist", what, ino));
  return *inode;
}

MemMetaStore::Inode& MemMetaStore::dir(uint64_t ino, std::string_view what) {
  Inode& inode = get(ino, what);
  if (!inode.is_dir())
    throw Error(Errc::not_dir, fmt::format("{} {} is not a directory", what, ino));
  return inode;
}

std::optional<uint64_t> MemMetaStore::entry(uint64_t parent, std::string_view name) const {
  auto d = dirs_.find(parent);
  if (d == dirs_.end()) return std::nullopt;
  auto e = d->second.by_name.find(name);
  if (e == d->second.by_name.end()) return std::nullopt;
  return e->second.ino;
}

MemMetaStore::Inode& MemMetaStore::insert_inode(proto::FileType type, uint32_t mode,
                                                uint32_t uid, uint32_t gid, uint32_t nlink,
                                                uint64_t rdev, uint64_t parent,
                                                std::string_view symlink) {
  Inode inode;
  auto& a = inode.attr;
  a = new_inode_attr(type, mode, uid, gid, nlink, rdev, symlink, now_ns());
  a.ino = next_ino_++;
  inode.parent = parent;
  if (type == proto::FileType::SYMLINK) inode.symlink = std::string(symlink);
  if (type == proto::FileType::DIRECTORY) dirs_[a.ino];
  uint64_t ino = a.ino;
  return inodes_.emplace(ino, std::move(inode)).first->second;
}

void MemMetaStore::add_entry(uint64_t parent, std::string_view name, uint64_t ino,
                             uint64_t cookie) {
  if (cookie == 0) cookie = next_cookie_++;
  Dir& d = dirs_.at(parent);
  d.by_name.emplace(std::string(name), Entry{ino, cookie});
  d.by_cookie.emplace(cookie, std::string(name));
}

uint64_t MemMetaStore::remove_entry(uint64_t parent, std::string_view name) {
  Dir& d = dirs_.at(parent);
  auto e = d.by_name.find(name);
  if (e == d.by_name.end()) return 0;
  uint64_t cookie = e->second.cookie;
  d.by_cookie.erase(cookie);
  d.by_name.erase(e);
  return cookie;
}

bool MemMetaStore::has_entries(uint64_t dir_ino) const {
  auto d = dirs_.find(dir_ino);
  return d != dirs_.end() && !d->second.by_name.empty();
}

void MemMetaStore::touch_dir(uint64_t ino, int nlink_delta) {
  Inode* d = find(ino);
  if (!d) return;
  d->attr.mtime_ns = d->attr.ctime_ns = now_ns();
  d->attr.nlink = static_cast<uint32_t>(static_cast<int64_t>(d->attr.nlink) + nlink_delta);
  ++d->attr.version;
}

uint32_t MemMetaStore::touch_inode(uint64_t ino, int nlink_delta) {
  Inode& inode = get(ino);
  inode.attr.ctime_ns = now_ns();
  inode.attr.nlink = static_cast<uint32_t>(static_cast<int64_t>(inode.attr.nlink) + nlink_delta);
  ++inode.attr.version;
  return inode.attr.nlink;
}

void MemMetaStore::drop_link(uint64_t ino, bool whole_dir) {
  uint32_t nlink;
  if (whole_dir) {
    Inode& inode = get(ino);
    inode.attr.ctime_ns = now_ns();
    inode.attr.nlink = 0;
    ++inode.attr.version;
    nlink = 0;
  } else {
    nlink = touch_inode(ino, -1);
  }
  if (nlink == 0) reclaim_if_unused(ino);
}

bool MemMetaStore::has_tokens(uint64_t ino) const { return tokens_per_inode_.count(ino) > 0; }

bool MemMetaStore::reclaim_if_unused(uint64_t ino) {
  Inode* inode = find(ino);
  if (!inode || inode->attr.nlink > 0 || has_tokens(ino)) return false;
  drop_chunks_from(ino, 0);
  dirs_.erase(ino);
  inodes_.erase(ino);
  spdlog::debug("event=inode_reclaimed ino={}", ino);
  return true;
}

void MemMetaStore::enqueue_copies(const Chunk& chunk) {
  for (const auto& [backend, copy] : chunk.copies)
    deletions_.emplace(std::make_pair(backend, chunk.uuid), now_ms());  // keeps an older entry
}

void MemMetaStore::drop_chunks_from(uint64_t ino, uint64_t first_index) {
  auto file = chunks_.find(ino);
  if (file == chunks_.end()) return;
  auto& chunks = file->second;
  for (auto it = chunks.lower_bound(first_index); it != chunks.end();) {
    enqueue_copies(it->second);
    chunk_owner_.erase(it->second.uuid);
    it = chunks.erase(it);
  }
  if (chunks.empty()) chunks_.erase(file);
}

void MemMetaStore::fit_chunks(uint64_t ino, uint64_t size) {
  if (size == 0) {
    drop_chunks_from(ino, 0);
    return;
  }
  const uint64_t cs = settings_.chunk_size;
  uint64_t last = (size - 1) / cs;
  drop_chunks_from(ino, last + 1);
  auto file = chunks_.find(ino);
  if (file == chunks_.end()) return;
  auto c = file->second.find(last);
  if (c != file->second.end() && c->second.size > size - last * cs) {
    c->second.size = size - last * cs;
    c->second.sha256.clear();
  }
}

bool MemMetaStore::has_chunks(uint64_t ino) const { return chunks_.count(ino) > 0; }

std::vector<ChunkInfo> MemMetaStore::load_chunks(uint64_t ino) const {
  std::vector<ChunkInfo> out;
  auto file = chunks_.find(ino);
  if (file == chunks_.end()) return out;
  for (const auto& [index, chunk] : file->second) {
    ChunkInfo c;
    c.index = index;
    c.uuid = chunk.uuid;
    c.version = chunk.version;
    c.size = chunk.size;
    c.sha256 = chunk.sha256;
    for (const auto& [backend_id, copy] : chunk.copies) {
      CopyInfo info;
      info.backend = backend_id;
      if (auto b = backends_.find(backend_id); b != backends_.end()) {
        info.backend_name = b->second.report.name;
        info.server = b->second.server;
        if (auto s = servers_.find(b->second.server); s != servers_.end()) {
          info.server_name = s->second.name;
          info.address = s->second.address;
        }
      }
      info.state = copy.state;
      info.version = copy.version;
      c.copies.push_back(std::move(info));
    }
    // Current copies first, then by backend (ORDER BY state, backend_id).
    std::stable_sort(c.copies.begin(), c.copies.end(), [](const CopyInfo& x, const CopyInfo& y) {
      return static_cast<int>(x.state) < static_cast<int>(y.state);
    });
    out.push_back(std::move(c));
  }
  return out;
}

std::string MemMetaStore::load_inline(const Inode& inode) const {
  std::string data = inode.inline_data.value_or(std::string());
  data.resize(inode.attr.size, '\0');
  return data;
}

std::vector<BackendCandidate> MemMetaStore::backend_candidates() const {
  std::vector<BackendCandidate> out;
  for (const auto& [id, b] : backends_) {
    auto s = servers_.find(b.server);
    if (s == servers_.end()) continue;
    BackendCandidate c;
    c.where.backend = id;
    c.where.backend_name = b.report.name;
    c.where.server = b.server;
    c.where.server_name = s->second.name;
    c.where.address = s->second.address;
    c.free_bytes = b.report.free_bytes;
    c.last_heartbeat_ms = s->second.last_heartbeat_ms;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace zhsm
