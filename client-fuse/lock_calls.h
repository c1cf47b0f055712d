// The client's two lock calls to the controller (setLock, getLock; doc/protocol.md,
// "Locks"), with plain values in and out so that the FUSE handlers (fuse_lock.cc) and the
// append path (open_inode_append.cc) share them. The controller never waits: a refused
// request comes back with the conflicting lock and the caller decides whether to poll.
#pragma once

#include <cstdint>
#include <stdexcept>

#include "capnp/zhsm.capnp.h"
#include "client-fuse/controller_link.h"

namespace zhsm::fuse {

// `end` of a lock that reaches the end of the file (the wire's all-ones).
inline constexpr uint64_t kLockToEof = UINT64_MAX;

struct LockRequest {
  uint64_t ino = 0;
  uint64_t token_id = 0;  // the open the lock is taken through
  uint64_t owner = 0;     // the kernel's lock owner (POSIX: process, flock: open file)
  proto::LockKind kind = proto::LockKind::POSIX;
  proto::LockType type = proto::LockType::READ;
  uint64_t start = 0;
  uint64_t end = kLockToEof;  // inclusive
  uint32_t pid = 0;
};

struct LockAnswer {
  bool granted = false;   // setLock: held (or dropped) now
  bool conflict = false;  // another holder's lock is in the way (fields below)
  proto::LockType type = proto::LockType::UNLOCK;
  uint64_t start = 0;
  uint64_t end = 0;
  uint32_t pid = 0;
};

// A wait for a lock given up because the FUSE request was interrupted (EINTR at the edge).
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted while waiting for a lock") {}
};

// setLock (`probe` false) or getLock (`probe` true). Both are idempotent and retried on
// transport failures. Throws zhsm::Error: token_expired (renew the token and try again),
// bad_token, invalid, or a transport failure. Thread-safe; blocks the calling thread.
LockAnswer lock_call(ControllerLink& controller, const LockRequest& request, bool probe);

}  // namespace zhsm::fuse
