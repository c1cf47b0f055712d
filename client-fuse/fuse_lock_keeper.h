// LockKeeper: what the mount's lock handlers (fuse_lock.cc) keep between requests.
//
// Blocking lock requests (F_SETLKW, flock without LOCK_NB) that the controller refused are
// parked here instead of holding a FUSE worker thread: a waiter holding a worker could
// starve the mount of the very thread the holder needs to unlock. One thread polls the
// controller for every parked request with a backoff from 5 ms growing to 200 ms, and
// answers each exactly once: 0 when granted, EINTR when the kernel interrupted the request
// (a signal; the interrupt callback only marks it), the errno of any other failure, and
// EINTR to every request still parked when the mount stops.
//
// It also remembers which (inode, lock owner) pairs may hold POSIX locks through this
// mount, so that a flush (every close(2)) asks the controller to drop locks only when
// there can be some.
//
// Thread-safety: every public method may be called from any FUSE worker; the interrupt
// callback comes from libfuse's threads. mu_ is never held across a call or a reply.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "client-fuse/fuse_ops.h"
#include "client-fuse/lock_calls.h"
#include "client-fuse/mount.h"

namespace zhsm::fuse {

class LockKeeper {
 public:
  explicit LockKeeper(Mount& mount) : mount_(mount) {}
  ~LockKeeper() { stop(); }
  LockKeeper(const LockKeeper&) = delete;
  LockKeeper& operator=(const LockKeeper&) = delete;

  // One setLock or getLock through `inode`'s token; on token_expired renews the inode's
  // tokens and tries once more. Throws zhsm::Error.
  LockAnswer call(OpenInode& inode, const LockRequest& request, bool probe);

  // Takes over the reply to `req`, a blocking request the controller refused: polls
  // until it is granted, fails, or `req` is interrupted. `inode` stays alive meanwhile.
  void park(fuse_req_t req, const LockRequest& request, std::shared_ptr<OpenInode> inode);

  // POSIX locks of `owner` on `ino` may exist (noted before a lock request goes out).
  void note_posix_owner(uint64_t ino, uint64_t owner);
  // Forgets the pair; true when it was noted (so its locks must be dropped).
  bool take_posix_owner(uint64_t ino, uint64_t owner);

  // Answers every parked request EINTR and stops the polling thread. Call before the FUSE
  // session is destroyed. Idempotent.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Wait {
    fuse_req_t req = nullptr;
    LockRequest request;
    std::shared_ptr<OpenInode> inode;
    Clock::time_point next{};
    std::chrono::milliseconds backoff{5};
    bool interrupted = false;
  };

  static void on_interrupt(fuse_req_t req, void* data);
  void interrupt(uint64_t id);
  void run();
  // One attempt for a due wait (mu_ not held); returns the errno to answer, or -1 to keep
  // waiting.
  int attempt(Wait& wait);

  Mount& mount_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::map<uint64_t, Wait> waits_;  // by id, the interrupt callback's data
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;  // started by the first park()
  std::set<std::pair<uint64_t, uint64_t>> posix_owners_;  // (ino, owner)
};

}  // namespace zhsm::fuse
