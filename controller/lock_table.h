// LockTable: the cluster's file locks, held in the controller's memory (doc/protocol.md,
// "Locks"). Three kinds, which never conflict with one another (as on Linux, where flock
// and fcntl locks are separate): POSIX byte ranges, whole-file flock locks, and the
// internal whole-file `append` lock a client holds around one O_APPEND write. A holder is
// (client id, owner, kind): the owner is the kernel's lock owner for POSIX locks (one per
// process), the open file description for flock, and the client's choice for append.
//
// POSIX semantics are Linux's: a holder's ranges of one type merge when they overlap or
// touch, a different type or an unlock over part of a range splits it, read locks are
// shared and write locks exclusive between holders, and a holder never conflicts with
// itself (upgrading or downgrading a range in place). A request never waits: one that
// conflicts is refused, reports the conflicting lock and changes nothing. The single
// exception is Linux's flock conversion: a holder converting its flock lock (shared to
// exclusive or back) loses the old lock first, so a refused conversion leaves it with none
// (flock(2); it keeps two shared holders that both convert from deadlocking).
//
// Every lock records the token (open) it was taken through, so that closing or losing
// that open drops it (drop_token), and the client, so that a client that goes away loses
// all of its locks (drop_client).
//
// Thread-safety: every method may be called from any thread (one mutex, never held across
// a call out).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "capnp/zhsm.capnp.h"

namespace zhsm {

// `end` of a lock that reaches the end of the file, however long it grows.
inline constexpr uint64_t kLockToEof = UINT64_MAX;

// A lock request, a held lock, or a conflict report.
struct LockSpec {
  uint64_t ino = 0;
  uint64_t client = 0;
  uint64_t owner = 0;
  proto::LockKind kind = proto::LockKind::POSIX;
  proto::LockType type = proto::LockType::READ;
  uint64_t start = 0;
  uint64_t end = kLockToEof;  // inclusive
  uint64_t token = 0;         // the open it was taken through
  uint32_t pid = 0;           // the holder's process, reported to F_GETLK

  bool operator==(const LockSpec&) const = default;
};

// The answer to LockTable::set.
struct LockOutcome {
  bool granted = false;
  std::optional<LockSpec> conflict;  // when refused: the lock in the way
  bool dropped_old = false;          // a flock conversion removed the holder's old lock
};

// "posix", "flock", "append" / "read", "write", "unlock", for logs.
std::string lock_kind_name(proto::LockKind kind);
std::string lock_type_name(proto::LockType type);

class LockTable {
 public:
  // Takes, changes or (type unlock) drops the request's lock. The caller has checked the
  // arguments (start <= end; flock and append cover the whole file; append is never
  // `read`). Unlocking what is not held is granted and changes nothing (idempotent).
  LockOutcome set(const LockSpec& request);
  // F_GETLK: the first lock (lowest start) of another holder of the probe's kind that
  // conflicts with the probe (`read` or `write`), or none.
  std::optional<LockSpec> test(const LockSpec& probe) const;

  // Drop every lock taken through a token / held by a client; return how many went.
  size_t drop_token(uint64_t token);
  size_t drop_client(uint64_t client);

  // The tokens some lock was taken through (for the sweeper's check that they still exist).
  std::vector<uint64_t> tokens() const;
  // How many locks (ranges) are held.
  size_t size() const;
  // The locks held on an inode, ordered by kind, client, owner and start (for tests).
  std::vector<LockSpec> locks_of(uint64_t ino) const;

 private:
  // Require mu_ held.
  std::optional<LockSpec> first_conflict(const std::vector<LockSpec>& held,
                                         const LockSpec& probe) const;
  void set_posix(std::vector<LockSpec>& held, const LockSpec& request);
  size_t drop_if(const std::function<bool(const LockSpec&)>& pred);

  mutable std::mutex mu_;                            // guards everything below
  std::map<uint64_t, std::vector<LockSpec>> by_ino_;  // never holds an empty vector
  size_t count_ = 0;
};

}  // namespace zhsm
