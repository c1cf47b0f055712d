// read and write through a handle; the inode's shared state does the work (an
// O_APPEND write may wait for another mount's append and honours interrupts).
#include <algorithm>
#include <memory>

#include "client-fuse/fuse_handlers.h"
#include "client-fuse/lock_calls.h"

namespace zhsm::fuse {

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  guarded(req, "read", ino, [&] {
    if (off < 0) throw Error(Errc::invalid, "negative offset");
    FileHandle* h = handle_of(fi);
    // Uninitialized: the read fills every byte it answers (holes with zeros).
    std::unique_ptr<char[]> data(new char[std::max<size_t>(size, 1)]);
    uint64_t n = h->inode->read(h->token_id, static_cast<uint64_t>(off), size, data.get());
    fuse_reply_buf(req, data.get(), n);
  });
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
              fuse_file_info* fi) {
  guarded(req, "write", ino, [&] {
    if (off < 0) throw Error(Errc::invalid, "negative offset");
    FileHandle* h = handle_of(fi);
    auto interrupted = [req] { return fuse_req_interrupted(req) != 0; };
    uint64_t n = 0;
    try {
      n = h->inode->write(h->token_id, static_cast<uint64_t>(off), buf, size, h->append,
                          interrupted);
    } catch (const Interrupted&) {  // an O_APPEND write gave up waiting for another mount
      fuse_reply_err(req, EINTR);
      return;
    }
    fuse_reply_write(req, n);
  });
}

}  // namespace zhsm::fuse
