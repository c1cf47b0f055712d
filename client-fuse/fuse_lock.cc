// getlk, setlk and flock: fcntl byte-range locks and flock locks, held for the whole
// cluster by the controller (doc/protocol.md, "Locks"). The kernel has already turned
// whence and length into an absolute range (length 0 = to the end of the file) and checked
// the descriptor's mode; the lock owner is the kernel's (per process for POSIX locks, per
// open file description for flock). A refused request answers EAGAIN, or with `sleep`
// (F_SETLKW, flock without LOCK_NB) is parked with the LockKeeper until granted or
// interrupted. Close drops locks as on Linux: flush drops the POSIX locks of the closing
// process, release the flock lock of the description.
#include <fcntl.h>
#include <sys/file.h>

#include <limits>

#include "client-fuse/fuse_handlers.h"
#include "client-fuse/fuse_lock_keeper.h"

namespace zhsm::fuse {

namespace {

constexpr uint64_t kMaxOffset = std::numeric_limits<int64_t>::max();  // the kernel's OFFSET_MAX

LockKeeper& keeper_of(fuse_req_t req) {
  LockKeeper* keeper = edge_of(req).locks;
  if (keeper == nullptr) throw Error(Errc::internal, "no lock keeper on this session");
  return *keeper;
}

proto::LockType posix_type(short type) {
  switch (type) {
    case F_RDLCK: return proto::LockType::READ;
    case F_WRLCK: return proto::LockType::WRITE;
    case F_UNLCK: return proto::LockType::UNLOCK;
    default: throw Error(Errc::invalid, "unknown fcntl lock type");
  }
}

LockRequest posix_request(fuse_ino_t ino, const FileHandle& h, uint64_t owner,
                          const struct flock& l) {
  if (l.l_start < 0 || l.l_len < 0) throw Error(Errc::invalid, "negative lock range");
  LockRequest r;
  r.ino = ino;
  r.token_id = h.inode->lock_token(h.token_id);
  r.owner = owner;
  r.kind = proto::LockKind::POSIX;
  r.type = posix_type(l.l_type);
  r.start = static_cast<uint64_t>(l.l_start);
  r.end = l.l_len == 0 ? kLockToEof
                       : static_cast<uint64_t>(l.l_start) + static_cast<uint64_t>(l.l_len) - 1;
  r.pid = static_cast<uint32_t>(l.l_pid);
  return r;
}

}  // namespace

void op_getlk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock) {
  guarded(req, "getlk", ino, [&] {
    FileHandle* h = handle_of(fi);
    LockRequest r = posix_request(ino, *h, fi->lock_owner, *lock);
    LockAnswer a = keeper_of(req).call(*h->inode, r, true);
    struct flock out = *lock;
    out.l_whence = SEEK_SET;
    if (!a.conflict) {
      out.l_type = F_UNLCK;
    } else {
      out.l_type = a.type == proto::LockType::WRITE ? F_WRLCK : F_RDLCK;
      out.l_start = static_cast<off_t>(std::min(a.start, kMaxOffset));
      out.l_len = a.end >= kMaxOffset ? 0 : static_cast<off_t>(a.end - a.start + 1);
      out.l_pid = static_cast<pid_t>(a.pid);
    }
    fuse_reply_lock(req, &out);
  });
}

void op_setlk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock, int sleep) {
  guarded(req, "setlk", ino, [&] {
    FileHandle* h = handle_of(fi);
    LockKeeper& keeper = keeper_of(req);
    LockRequest r = posix_request(ino, *h, fi->lock_owner, *lock);
    // Noted first, so that a close racing this request still drops what it gets.
    if (r.type != proto::LockType::UNLOCK) keeper.note_posix_owner(ino, r.owner);
    if (keeper.call(*h->inode, r, false).granted) {
      fuse_reply_err(req, 0);
    } else if (!sleep) {
      fuse_reply_err(req, EAGAIN);
    } else {
      keeper.park(req, r, h->inode);
    }
  });
}

void op_flock(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, int op) {
  guarded(req, "flock", ino, [&] {
    FileHandle* h = handle_of(fi);
    LockKeeper& keeper = keeper_of(req);
    LockRequest r;
    r.ino = ino;
    r.token_id = h->inode->lock_token(h->token_id);
    r.owner = fi->lock_owner;
    r.kind = proto::LockKind::FLOCK;
    switch (op & (LOCK_SH | LOCK_EX | LOCK_UN)) {
      case LOCK_SH: r.type = proto::LockType::READ; break;
      case LOCK_EX: r.type = proto::LockType::WRITE; break;
      case LOCK_UN: r.type = proto::LockType::UNLOCK; break;
      default: throw Error(Errc::invalid, "flock needs exactly one of LOCK_SH, LOCK_EX, LOCK_UN");
    }
    r.pid = static_cast<uint32_t>(fuse_req_ctx(req)->pid);
    if (keeper.call(*h->inode, r, false).granted) {
      fuse_reply_err(req, 0);
    } else if (op & LOCK_NB) {
      fuse_reply_err(req, EWOULDBLOCK);
    } else {
      keeper.park(req, r, h->inode);
    }
  });
}

void drop_posix_locks(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) noexcept {
  LockKeeper* keeper = edge_of(req).locks;
  if (keeper == nullptr || !keeper->take_posix_owner(ino, fi->lock_owner)) return;
  FileHandle* h = handle_of(fi);
  LockRequest r;
  r.ino = ino;
  r.owner = fi->lock_owner;
  r.kind = proto::LockKind::POSIX;
  r.type = proto::LockType::UNLOCK;
  try {
    r.token_id = h->inode->lock_token(h->token_id);
    keeper->call(*h->inode, r, false);
  } catch (const std::exception& e) {
    spdlog::warn("event=lock_drop_failed ino={} owner={} kind=posix msg=\"{}\"", ino,
                 fi->lock_owner, e.what());
  }
  catch (...) {
    spdlog::warn("event=lock_drop_failed ino={} owner={} kind=posix msg=\"unknown exception\"", ino,
                 fi->lock_owner);
  }
}

void drop_flock(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) noexcept {
  LockKeeper* keeper = edge_of(req).locks;
  if (keeper == nullptr || !fi->flock_release) return;
  FileHandle* h = handle_of(fi);
  LockRequest r;
  r.ino = ino;
  r.owner = fi->lock_owner;
  r.kind = proto::LockKind::FLOCK;
  r.type = proto::LockType::UNLOCK;
  try {
    r.token_id = h->inode->lock_token(h->token_id);
    keeper->call(*h->inode, r, false);
  } catch (const std::exception& e) {
    spdlog::warn("event=lock_drop_failed ino={} owner={} kind=flock msg=\"{}\"", ino,
                 fi->lock_owner, e.what());
  }
  catch (...) {
    spdlog::warn("event=lock_drop_failed ino={} owner={} kind=flock msg=\"unknown exception\"", ino,
                 fi->lock_owner);
  }
}

}  // namespace zhsm::fuse
