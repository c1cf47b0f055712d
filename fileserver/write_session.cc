// ObjectStore's write sessions: begin (copy what is kept into ROOT/tmp/), write,
// truncate, read, commit (hash, head, fsync, version check, rename) and abort.
// See doc/architecture.md, "Data path: writes (write sessions)".
#include <fcntl.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "fileserver/object_store.h"

namespace zhsm::fileserver {
namespace {

constexpr size_t kHashPiece = 1u << 20;
// A session that grew by this much since the last start of writeback starts the next:
// the disk writes while the rest of the object arrives, instead of all of it in the
// commit's fsync (see ObjectStore::write).
constexpr uint64_t kWritebackStep = 4u << 20;
// Pieces at least this large, starting on a block boundary, go to the disk with direct I/O
// (ObjectStore::write_direct); at most this large, through one staging buffer per thread.
constexpr size_t kDirectMin = 256u << 10;
constexpr size_t kDirectMax = 4u << 20;

// A block-aligned buffer of at least `n` bytes for this thread, kept for the next piece.
uint8_t* staging(size_t n) {
  struct Buffer {
    uint8_t* p = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(p); }
  };
  thread_local Buffer b;
  if (b.size < n) {
    std::free(b.p);
    b.p = nullptr;
    b.size = 0;
    void* p = nullptr;
    if (posix_memalign(&p, DiskIo::kDirectAlign, n) != 0) throw std::bad_alloc();
    b.p = static_cast<uint8_t*>(p);
    b.size = n;
  }
  return b.p;
}

void check_extent(const WriteSession& s, uint64_t offset, uint64_t length) {
  if (offset > kMaxObjectSize || length > kMaxObjectSize - offset)
    throw Error(Errc::invalid, "object " + s.uuid().str() + ": range at " +
                                   std::to_string(offset) + " of " + std::to_string(length) +
                                   " bytes exceeds the largest object size");
}

}  // namespace

std::shared_ptr<WriteSession> ObjectStore::begin_write(const Uuid& uuid, const Uuid& owner,
                                                       uint64_t index, uint64_t keep_length) {
  auto s = std::make_shared<WriteSession>();
  s->uuid_ = uuid;
  s->owner_ = owner;
  s->index_ = index;
  s->hash_ = std::make_unique<Sha256>();

  uint64_t keep = 0;
  auto current = io_.open_if_exists(shard_path(root_, uuid));
  if (current) {
    ObjectHead head = read_head(*current);
    if (head.owner != owner)
      throw Error(Errc::bad_token, "object " + uuid.str() + " does not belong to file " +
                                       owner.str());
    s->base_version_ = head.version;
    keep = std::min(keep_length, head.size);
  } else if (keep_length > 0) {
    throw Error(Errc::stale, "object " + uuid.str() + " is not on backend '" + identity_.name +
                                 "': cannot keep " + std::to_string(keep_length) +
                                 " bytes of it");
  }

  s->file_ = io_.open(tmp_dir_ / Uuid::random().str(), O_RDWR | O_CREAT | O_EXCL, 0644);
  try {
    if (auto direct = io_.open_direct(s->file_.path())) s->direct_ = std::move(*direct);
    if (keep > 0) {
      // Reads from the file opened above: a commit racing this copy replaces the
      // object by rename, so the copy still sees one consistent version.
      io_.copy_range(*current, kHeadBlockSize, s->file_, kHeadBlockSize, keep);
      io_.truncate(s->file_, kHeadBlockSize + keep);
      s->sequential_ = false;
    }
  } catch (const Error&) {
    std::lock_guard lock(s->mu_);
    discard(*s, WriteSession::State::failed, Errc::io, "could not start");
    throw;
  }
  s->size_ = keep;
  return s;
}

void ObjectStore::require_open(const WriteSession& s) const {
  switch (s.state_) {
    case WriteSession::State::open: return;
    case WriteSession::State::committed:
      throw Error(Errc::invalid, "write session of object " + s.uuid_.str() +
                                     " is already committed");
    case WriteSession::State::aborted:
      throw Error(Errc::stale, "write session of object " + s.uuid_.str() + " was aborted");
    case WriteSession::State::failed:
      throw Error(s.failure_code_, "write session of object " + s.uuid_.str() +
                                       " failed earlier: " + s.failure_);
  }
}

void ObjectStore::discard(WriteSession& s, WriteSession::State state, Errc code,
                          const std::string& why) noexcept {
  s.state_ = state;
  s.ended_ = true;
  s.failed_ = state == WriteSession::State::failed;
  s.failure_code_ = code;
  s.failure_ = why;
  s.direct_.close();
  if (!s.file_.is_open()) return;
  auto path = s.file_.path();
  s.file_.close();
  try {
    io_.unlink(path);
  } catch (const Error& e) {
    // The next open of the backend removes it.
    spdlog::warn("event=temp_remove_failed backend={} uuid={} reason=\"{}\"", identity_.name,
                 s.uuid_.str(), e.what());
  }
}

void ObjectStore::write(WriteSession& s, uint64_t offset, const void* data, size_t n) {
  std::lock_guard lock(s.mu_);
  require_open(s);
  check_extent(s, offset, n);
  if (n == 0) return;
  try {
    if (!write_direct(s, offset, data, n))
      io_.pwrite_all(s.file_, data, n, kHeadBlockSize + offset);
  } catch (const Error& e) {
    discard(s, WriteSession::State::failed, e.code(), e.what());
    throw;
  }
  if (s.sequential_ && offset == s.size_)
    s.hash_->update(data, n);
  else
    s.sequential_ = false;
  s.size_ = std::max(s.size_, offset + n);
  // A large object written in one go would otherwise sit in the page cache until the
  // commit's fsync writes all of it, after the last byte arrived (the kernel's own
  // background writeback starts only past a tenth or so of memory). Starting it every few
  // MiB overlaps the disk's work with the transfer; rewrites below the mark are left to
  // the fsync.
  if (s.size_ - s.writeback_started_ >= kWritebackStep &&
      io_.start_writeback(s.file_, kHeadBlockSize + s.writeback_started_,
                          s.size_ - s.writeback_started_))
    s.writeback_started_ = s.size_;
}

// A large write through the page cache costs a copy into it that, on a 2-core machine,
// took about half of the file server's CPU during a sequential write (perf: 54 % in
// copy_folio_from_iter_atomic), and the commit's fsync then waits for all of it. Direct I/O
// writes from a block-aligned staging copy (memcpy, a fraction of that) straight to the
// disk; the commit's fsync still makes data and size durable. Pages of the file that the
// cache holds (an unaligned tail written before) are written back and dropped by the kernel
// before a direct write over them, so the two paths stay coherent.
bool ObjectStore::write_direct(WriteSession& s, uint64_t offset, const void* data, size_t n) {
  if (!s.direct_.is_open() || n < kDirectMin || n > kDirectMax ||
      (kHeadBlockSize + offset) % DiskIo::kDirectAlign != 0)
    return false;
  const size_t aligned = n - n % DiskIo::kDirectAlign;
  uint8_t* stage = staging(aligned);
  std::memcpy(stage, data, aligned);
  if (!io_.pwrite_direct(s.direct_, stage, aligned, kHeadBlockSize + offset)) {
    spdlog::info("event=direct_io_refused backend={} uuid={}", identity_.name, s.uuid_.str());
    s.direct_.close();
    return false;
  }
  if (aligned < n)
    io_.pwrite_all(s.file_, static_cast<const uint8_t*>(data) + aligned, n - aligned,
                   kHeadBlockSize + offset + aligned);
  return true;
}

void ObjectStore::truncate(WriteSession& s, uint64_t length) {
  std::lock_guard lock(s.mu_);
  require_open(s);
  check_extent(s, length, 0);
  if (length == s.size_) return;
  try {
    io_.truncate(s.file_, kHeadBlockSize + length);
  } catch (const Error& e) {
    discard(s, WriteSession::State::failed, e.code(), e.what());
    throw;
  }
  s.sequential_ = false;
  s.size_ = length;
  s.writeback_started_ = std::min(s.writeback_started_, length);
}

size_t ObjectStore::read(WriteSession& s, uint64_t offset, void* buf, size_t n) {
  std::lock_guard lock(s.mu_);
  require_open(s);
  if (offset >= s.size_ || n == 0) return 0;
  size_t want = static_cast<size_t>(std::min<uint64_t>(n, s.size_ - offset));
  size_t got = io_.pread_full(s.file_, buf, want, kHeadBlockSize + offset);
  if (got < want) std::memset(static_cast<uint8_t*>(buf) + got, 0, want - got);
  return want;
}

Digest ObjectStore::rehash(WriteSession& s) {
  Sha256 hash;
  std::vector<uint8_t> buf(kHashPiece);
  for (uint64_t at = 0; at < s.size_;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), s.size_ - at));
    size_t got = io_.pread_full(s.file_, buf.data(), want, kHeadBlockSize + at);
    if (got < want)
      throw Error(Errc::io, "backend '" + identity_.name + "': temporary file " +
                                s.file_.path().string() + " ended early while hashing");
    hash.update(buf.data(), want);
    at += want;
  }
  return hash.finish();
}

CommitResult ObjectStore::commit(WriteSession& s, int64_t mtime_ns) {
  std::lock_guard lock(s.mu_);
  require_open(s);
  try {
    // Make the file exactly head + data long before hashing or naming it.
    io_.truncate(s.file_, kHeadBlockSize + s.size_);
    ObjectHead head;
    head.uuid = s.uuid_;
    head.owner = s.owner_;
    head.index = s.index_;
    head.version = s.base_version_ + 1;
    head.mtime_ns = mtime_ns;
    head.size = s.size_;
    head.sha256 = s.sequential_ ? s.hash_->finish() : rehash(s);
    HeadBlock block = encode_head_block(head);
    io_.pwrite_all(s.file_, block.data(), block.size(), 0);
    // The mtime is set before the rename, so the object never shows a wrong one, and
    // before the fsync, which then makes it durable together with the data.
    io_.set_mtime(s.file_, mtime_ns);
    io_.fsync(s.file_);

    auto final_path = shard_path(root_, s.uuid_);
    {
      std::lock_guard object(object_lock(s.uuid_));
      uint64_t stored_version = 0;
      uint64_t replaced_bytes = 0;
      bool replaces = false;
      if (auto current = io_.open_if_exists(final_path)) {
        replaces = true;
        ObjectHead stored = read_head(*current);
        if (stored.owner != s.owner_)
          throw Error(Errc::stale, "object " + s.uuid_.str() + " now belongs to file " +
                                       stored.owner.str());
        stored_version = stored.version;
        replaced_bytes = static_cast<uint64_t>(io_.fstat(*current).st_size);
      }
      if (stored_version != s.base_version_)
        throw Error(Errc::stale, "object " + s.uuid_.str() + " is at version " +
                                     std::to_string(stored_version) +
                                     " but the write session started from version " +
                                     std::to_string(s.base_version_) +
                                     ": another commit came first");
      rename_into_place(s, final_path, replaces, replaced_bytes, head.version);
    }
    return CommitResult{head.version, head.size, head.sha256};
  } catch (const Error& e) {
    if (s.state_ == WriteSession::State::open)
      discard(s, e.code() == Errc::stale ? WriteSession::State::aborted
                                         : WriteSession::State::failed,
              e.code(), e.what());
    throw;
  }
}

void ObjectStore::rename_into_place(WriteSession& s, const std::filesystem::path& final_path,
                                    bool replaces, uint64_t replaced_bytes, uint64_t version) {
  auto shard_dir = final_path.parent_path();
  if (io_.mkdir(shard_dir.parent_path())) io_.fsync_dir(root_);
  if (io_.mkdir(shard_dir)) io_.fsync_dir(shard_dir.parent_path());
  // Its checksum was computed from the data it holds: a first read need not hash it
  // again (after a restart it does, the map being in memory).
  FileIdentity written = identity_of(s.file_, version);
  io_.rename(s.file_.path(), final_path);
  s.file_.close();
  s.direct_.close();
  if (verify_reads_) {
    std::lock_guard lock(verified_mu_);
    remember_intact(s.uuid_, written);
  }
  s.state_ = WriteSession::State::committed;
  s.ended_ = true;
  used_bytes_ += kHeadBlockSize + s.size_;
  used_bytes_ -= replaced_bytes;
  if (!replaces) ++object_count_;
  io_.fsync_dir(shard_dir);
}

void ObjectStore::abort(WriteSession& s) noexcept {
  std::lock_guard lock(s.mu_);
  if (s.state_ != WriteSession::State::open) return;
  discard(s, WriteSession::State::aborted, Errc::stale, "aborted");
}

}  // namespace zhsm::fileserver
