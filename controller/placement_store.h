// What the replicator (controller/replicator.h) asks of the database: the file resolve
// chains, the files whose data objects it keeps where the chains want them, and the copy
// rows it changes as copies are made and dropped. Kept apart from MetaStore, the namespace
// interface: only the PostgreSQL store implements it (controller/db/pg_chains.cc), and a
// controller without it answers the chain requests with `notSupported`.
//
// Same contract as MetaStore: thread-safe, one transaction per mutation, expected outcomes
// thrown as zhsm::Error with context.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/uuid.h"
#include "controller/meta_types.h"

namespace zhsm {

struct ChainRow {
  std::string name;
  uint32_t copies = 1;
  uint32_t stripe = 1;             // a file's data objects spread over up to this many backends
  uint32_t ack = 1;                // a close waits until this many copies are current
  std::vector<std::string> rules;  // canonical written forms, in order
  std::vector<uint64_t> dirs;      // directories that name this chain
};

// A chunked regular file as the replicator sees it.
struct PlacementFile {
  InodeAttr attr;
  std::string path;        // one of its paths ("/a/b"); empty for an unlinked file
  std::string chain;       // the chain named by its nearest directory; empty = "default"
  uint64_t chain_dir = 0;  // that directory's inode; 0 = none
  uint64_t accesses = 0;   // opens counted since the hour asked for (file_accesses)
  std::vector<ChunkInfo> chunks;  // with every copy row (any state)
};

class PlacementStore {
 public:
  virtual ~PlacementStore() = default;

  // ---- chains
  virtual std::vector<ChainRow> chains() = 0;
  // Creates a chain without rules; exists when the name is taken.
  virtual void create_chain(const std::string& name, uint32_t copies, uint32_t stripe,
                            uint32_t ack) = 0;
  // Sets a chain's numbers (nullopt leaves one as it is); not_found for an unknown chain.
  virtual void set_chain_numbers(const std::string& name, std::optional<uint32_t> copies,
                                 std::optional<uint32_t> stripe, std::optional<uint32_t> ack) = 0;
  // Replaces a chain's rules (already checked by the caller) if they are still `expected`,
  // the rules the edit was made from: stale when another edit came first, and nothing
  // changes then (the caller reads the chain again and redoes its edit). not_found for an
  // unknown chain.
  virtual void set_chain_rules(const std::string& name, const std::vector<std::string>& expected,
                               const std::vector<std::string>& rules) = 0;
  // Deletes a chain; not_found when unknown, busy while a directory names it.
  virtual void delete_chain(const std::string& name) = 0;
  // Names `chain` for everything below directory `ino`; an empty chain removes the mark.
  // not_found for an unknown inode or chain, not_dir for a non-directory.
  virtual void set_dir_chain(uint64_t ino, const std::string& chain) = 0;

  // One path of inode `ino` ("/" for the root); empty when it has no name (unlinked).
  virtual std::string path_of(uint64_t ino) = 0;

  // ---- files and their copies
  // Chunked regular files with an inode number above `after`, ascending, at most `limit`,
  // with their opens counted in hours from `accesses_since_hour` on.
  virtual std::vector<PlacementFile> placement_files(uint64_t after, uint32_t limit,
                                                     int64_t accesses_since_hour) = 0;
  // Any regular file (inline ones have no chunks), or nullopt for another inode.
  virtual std::optional<PlacementFile> placement_file(uint64_t ino,
                                                      int64_t accesses_since_hour) = 0;

  // ---- accesses
  // Adds opens of files in hour `hour` (hours since the epoch); files gone meanwhile are
  // skipped. Deletes the counts of hours before `forget_before_hour`.
  virtual void add_accesses(const std::vector<std::pair<uint64_t, uint64_t>>& ino_counts,
                            int64_t hour, int64_t forget_before_hour) = 0;
  // Records that the chains want a copy of `uuid` on `backend` (state target) unless a row
  // for that backend exists. Returns whether a copy may be made there now: false while
  // the object's deletion on that backend is still pending (the file server could delete
  // the new copy with it), and then no row is added.
  virtual bool want_copy(const Uuid& uuid, const Uuid& backend) = 0;
  // A copy task finished: the copy on `backend` holds `version` with checksum `sha256`. It
  // becomes current only when its row still exists (the copy is still wanted) and that is
  // still the object's version (and checksum, when the database knows it); returns
  // whether it did.
  virtual bool copy_made(const Uuid& uuid, const Uuid& backend, uint64_t version,
                         const std::string& sha256) = 0;
  // Drops the copy row of `uuid` on `backend` and queues the object there for deletion, but
  // only while another current copy of the newest version remains (a current copy is never
  // the last one dropped). Returns whether it dropped.
  virtual bool drop_copy(const Uuid& uuid, const Uuid& backend) = 0;

  // A file server found the copy of `uuid` on `backend` corrupt (its data does not match its
  // checksum): the copy becomes outdated, so that the replicator copies the object there
  // again from a good copy. The only current copy stays current (there is nothing to repair
  // it from; readers get the error). Returns whether it was outdated.
  virtual bool copy_corrupt(const Uuid& uuid, const Uuid& backend) = 0;

  // ---- servers
  // Sets a server's maintenance or draining mark (nullopt leaves it). not_found when unknown.
  virtual void set_server_mode(const std::string& name, std::optional<bool> maintenance,
                               std::optional<bool> draining) = 0;
};

}  // namespace zhsm
