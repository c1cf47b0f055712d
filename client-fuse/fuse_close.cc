// flush (every close of a descriptor), fsync and release (the last close of an
// open): pending writes are committed on the file servers and with the
// controller before success is answered; a failure is the errno of that call.
// flush also drops the closing process's POSIX locks on the file, release the
// description's flock lock (fuse_lock.cc).
#include <exception>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

namespace {

}  // namespace

void op_flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "flush", ino, [&] {
    FileHandle* h = handle_of(fi);
    std::exception_ptr failure;
    try {
      if (h->can_write) h->inode->commit(h->token_id);
    } catch (...) {
      failure = std::current_exception();
    }
    // After the data, so the next holder of a lock sees it; even when the commit failed,
    // as Linux drops the locks of a closing process whatever flush answered.
    drop_posix_locks(req, ino, fi);
    if (failure) std::rethrow_exception(failure);
    fuse_reply_err(req, 0);
  });
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info* fi) {
  guarded(req, "fsync", ino, [&] {
    FileHandle* h = handle_of(fi);
    // A commit of data is synchronous in PostgreSQL and takes every earlier namespace
    // change along; without one, the file's creation or attributes may still be
    // waiting for the database's log flush (doc/durability.md).
    bool committed = h->can_write && h->inode->commit(h->token_id);
    if (!committed) mount_of(req).sync();
    fuse_reply_err(req, 0);
  });
}

void op_release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "release", ino, [&] {
    drop_flock(req, ino, fi);
    mount_of(req).release_handle(handle_of(fi));
    fuse_reply_err(req, 0);
  });
}

}  // namespace zhsm::fuse
