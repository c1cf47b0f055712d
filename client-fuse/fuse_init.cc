// init and destroy: negotiate the connection (atomic O_TRUNC in open, 1 MiB
// writes, asynchronous reads, no writeback cache: writes reach us when the
// application makes them, so errors surface at write/flush/close; POSIX and
// flock locks handled by us, so they hold across mounts).
#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

void op_init(void* userdata, fuse_conn_info* conn) {
  if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  if (conn->capable & FUSE_CAP_ASYNC_READ) conn->want |= FUSE_CAP_ASYNC_READ;
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  // The kernel clears setuid/setgid bits itself (through setattr) on write.
  conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
  // Locks are the cluster's (fuse_lock.cc): without these the kernel would keep them
  // per mount, invisible to every other mount.
  if (conn->capable & FUSE_CAP_POSIX_LOCKS) conn->want |= FUSE_CAP_POSIX_LOCKS;
  if (conn->capable & FUSE_CAP_FLOCK_LOCKS) conn->want |= FUSE_CAP_FLOCK_LOCKS;
  conn->max_write = 1 << 20;
  // The kernel keeps the smaller of this and the device's readahead, which
  // set_readahead (readahead.h) raised to read_ahead_kb before this answer.
  unsigned readahead = static_cast<Edge*>(userdata)->mount.options().read_ahead_kb << 10;
  conn->max_readahead = std::max<unsigned>({conn->max_readahead, 1u << 20, readahead});
  spdlog::info("event=fuse_init proto={}.{} max_write={} max_readahead={} atomic_o_trunc={} "
               "posix_locks={} flock_locks={}",
               conn->proto_major, conn->proto_minor, conn->max_write, conn->max_readahead,
               (conn->want & FUSE_CAP_ATOMIC_O_TRUNC) != 0,
               (conn->want & FUSE_CAP_POSIX_LOCKS) != 0, (conn->want & FUSE_CAP_FLOCK_LOCKS) != 0);
}

void op_destroy(void*) { spdlog::info("event=fuse_destroy"); }

}  // namespace zhsm::fuse
