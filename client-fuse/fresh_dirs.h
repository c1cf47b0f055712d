// FreshDirs: the attributes of directories this mount just changed, as the controller's
// answer to the change reported them (Response.touched), kept to answer the kernel's next
// getattr of each such directory without asking the controller again.
//
// The kernel forgets a directory's attributes after every create, mkdir, unlink, rmdir or
// rename in it, and asks for them at the next path walk through it (default_permissions
// needs the mode). The answer to the change already carries them: serving them once,
// while they are younger than the attribute timeout, is the staleness the kernel's own
// attribute cache would have allowed had it kept them. Each entry answers one getattr and
// is then gone; this mount's own changes of a directory's attributes (setattr, setxattr,
// removexattr, rename of it) forget it at once. Of two answers for one directory, the
// higher inode version wins (answers of concurrent changes may arrive out of order).
//
// Thread-safe. Bounded: past `capacity` entries, all are dropped.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace zhsm::fuse {

class FreshDirs {
 public:
  using Clock = std::chrono::steady_clock;

  // `ttl` zero or negative: nothing is kept.
  FreshDirs(Clock::duration ttl, size_t capacity) : ttl_(ttl), capacity_(capacity) {}

  // The controller reported directory `st.st_ino` at inode version `version`, at `now`.
  void note(const struct stat& st, uint64_t version, Clock::time_point now);
  struct Taken {
    struct stat st;
    Clock::duration left;  // how much of the timeout remains: the kernel may keep it that long
  };
  // The attributes noted for `ino`, if younger than the timeout at `now`; the entry is gone
  // afterwards either way.
  std::optional<Taken> take(uint64_t ino, Clock::time_point now);
  // Forgets `ino` (its attributes changed through this mount).
  void forget(uint64_t ino);
  // Forgets everything (a rename changed the ctime of a directory not named in it).
  void clear();

  size_t size();

 private:
  struct Entry {
    struct stat st;
    uint64_t version;
    Clock::time_point noted;
  };

  const Clock::duration ttl_;
  const size_t capacity_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace zhsm::fuse
