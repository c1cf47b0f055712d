// Statahead: when a program looks up the names of one directory one after another
// (stat of every file, `git status`, make, a cold `cat *` or `diff -r`), the mount
// reads the directory once with its attributes (readdirplus pages from the controller)
// and answers the following lookups from that listing, for what is left of the entry
// timeout. Each lookup answered here saves a controller round trip; the kernel gets
// only the rest of the timeouts, so nothing is cached longer than a lookup's answer
// would have been (the same bound the kernel's own dentry cache keeps).
//
// Safety: a listing counts only while nothing this mount sent could have changed a
// name or an attribute since it was asked for: every such controller call moves
// ControllerLink::changes() before it goes out and again when its answer is back, and
// a listing is used only under the value it was asked under. Another mount's changes
// show within the timeout, as with the kernel's caches. Only names found are answered
// here; a name not in the listing still goes to the controller, so a file another mount
// just made is seen at once.
//
// When: a directory is read ahead after `trigger` lookups in it reached the controller
// and found their name under one changes() value (a create-heavy workload looks up
// absent names and changes things between lookups, so it never triggers one).
//
// Thread-safe. Bounded: at most `max_dirs` listings of at most `max_entries` entries.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zhsm::fuse {

class Statahead {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    Clock::duration ttl{};     // how long a listing counts (the entry timeout); 0: never
    size_t trigger = 8;        // found lookups in one directory before it is read ahead
    size_t max_entries = 16384;  // entries kept per listing (larger directories: a part)
    size_t max_dirs = 4;       // listings kept at once (the least recent goes first)
  };

  explicit Statahead(Options options);

  struct Hit {
    struct stat st;
    Clock::duration age;  // since the listing was asked for
  };
  // The listing's entry for `name` in `parent`, when a listing asked under `changes`
  // holds it and is younger than the timeout at `now`.
  std::optional<Hit> find(uint64_t parent, std::string_view name, uint64_t changes,
                          Clock::time_point now);

  // A lookup in `parent` asked at `asked` under `changes` found its name at the
  // controller. Returns true when the caller should now read the directory ahead (the
  // caller then calls fill or abandon); the directory counts as being read meanwhile.
  bool note_found(uint64_t parent, uint64_t changes, Clock::time_point asked);

  struct Entry {
    std::string name;
    struct stat st;
  };
  // The listing of `parent` (all of it, or its first max_entries) as the controller
  // answered it, asked for at `asked` under `changes`.
  void fill(uint64_t parent, std::vector<Entry> entries, uint64_t changes,
            Clock::time_point asked);
  // Reading `parent` ahead failed; the directory may be tried again later.
  void abandon(uint64_t parent);

  // Drops every listing that holds an entry for inode `ino`: the mount found that inode
  // without a name (another mount removed it or renamed a file over it), and the
  // kernel's next lookup, sent to look the name up again, must reach the controller.
  void forget_inode(uint64_t ino);

  size_t max_entries() const { return options_.max_entries; }
  // Listings held now (for tests).
  size_t listings();

 private:
  struct Dir {
    // Found lookups counted towards the trigger, under changes value `counted_under`.
    size_t found = 0;
    uint64_t counted_under = 0;
    bool reading = false;  // a read ahead is under way
    // The listing, when there is one.
    bool listed = false;
    uint64_t listed_under = 0;
    Clock::time_point asked;
    std::unordered_map<std::string, struct stat> entries;
    std::list<uint64_t>::iterator lru;
  };
  // Requires mu_ held: the directory's state, made the most recent.
  Dir& dir(uint64_t parent);
  void evict_if_full();
  // Requires mu_ held: drops the least recent listings until one more fits.
  void drop_listings_but(uint64_t keep);

  const Options options_;
  std::mutex mu_;  // guards everything below
  std::unordered_map<uint64_t, Dir> dirs_;
  std::list<uint64_t> lru_;  // most recent first
};

}  // namespace zhsm::fuse
