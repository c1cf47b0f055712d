// XattrCache: which extended attributes an inode is known not to have, for as long
// as the kernel may cache the inode's attributes (the mount's attr_timeout).
//
// The kernel asks for `security.capability` before every write to a file (to drop a
// file capability on write) and never caches the answer; without this, every write
// of an application cost one controller round trip for an attribute almost no file
// has. The mount learns absence from the controller's ENODATA answers, and learns
// that an inode has no extended attributes at all when it made the inode itself.
// Another mount's setxattr becomes visible here within the timeout, the same bound
// the kernel's attribute cache puts on another mount's chmod; this mount's own
// setxattr and removexattr forget the inode at once.
//
// Thread-safe. Bounded: past `capacity` inodes, expired entries go first, then all; at
// most kNamesPerInode absent names are kept per inode (a program probing many names
// starts the inode's list afresh).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace zhsm::fuse {

class XattrCache {
 public:
  using Clock = std::chrono::steady_clock;

  // `ttl` zero or negative: nothing is ever known (every question goes to the controller).
  XattrCache(Clock::duration ttl, size_t capacity);

  // `ino` has no extended attributes at all (this mount just made it).
  void note_none(uint64_t ino, Clock::time_point now);
  // A number that moves with every forget(); take it (and `now`) before asking the
  // controller, and hand it to note_absent.
  uint64_t epoch();
  // The controller answered that `ino` has no attribute `name`, to a question asked
  // at `asked` under `epoch`. Ignored when a forget() came since: a setxattr of
  // this mount that raced the question may have made the answer stale.
  void note_absent(uint64_t ino, std::string_view name, Clock::time_point asked, uint64_t epoch);
  // The controller listed no attributes at all for `ino`, to a question asked at `asked`
  // under `epoch` (ignored when a forget() came since, as in note_absent).
  void note_listed_none(uint64_t ino, Clock::time_point asked, uint64_t epoch);
  // Whether `ino` is known, at `now`, to have no attribute `name`.
  bool known_absent(uint64_t ino, std::string_view name, Clock::time_point now);
  // Whether `ino` is known, at `now`, to have no extended attributes at all.
  bool known_none(uint64_t ino, Clock::time_point now);
  // Forgets what is known of `ino` (its attributes changed through this mount).
  void forget(uint64_t ino);

  size_t size();

  static constexpr size_t kNamesPerInode = 16;

 private:
  struct Entry {
    Clock::time_point none_until;  // no attributes at all until then
    std::map<std::string, Clock::time_point, std::less<>> absent_until;  // name -> known absent until
    Clock::time_point last_until() const;
  };
  // Requires mu_ held.
  Entry& entry_for(uint64_t ino, Clock::time_point now);

  const Clock::duration ttl_;
  const size_t capacity_;
  std::mutex mu_;  // guards entries_ and epoch_
  uint64_t epoch_ = 0;
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace zhsm::fuse
