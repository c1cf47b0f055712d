// Commits from concurrent clients, grouped. commitData is the call that waits for
// PostgreSQL's log flush (doc/durability.md). While one group of commits is in the
// database, the commits that arrive wait, and go together in the next group: one
// transaction and one flush for all of them (MetaStore::commit_data_batch). A commit that
// finds no group in the database goes at once, so a lone client waits no longer than it
// would alone. Groups are at most as large as the database threads that wait in them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

#include "controller/meta_store.h"

namespace zhsm {

class GroupCommit {
 public:
  explicit GroupCommit(MetaStore& store, size_t max_group = 64);

  // Blocking (called on a database thread): store.commit_data(args), in whichever group
  // it joins. Throws what commit_data would have thrown.
  InodeAttr commit(const CommitArgs& args);

  struct Counts {
    uint64_t groups = 0;   // transactions made
    uint64_t commits = 0;  // commits they carried
  };
  Counts counts() const;

 private:
  struct Slot {
    const CommitArgs* args = nullptr;
    CommitOutcome outcome;
    bool done = false;
  };

  MetaStore& store_;
  const size_t max_group_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Slot*> queue_;  // waiting for the next group
  bool busy_ = false;        // a group is in the database
  Counts counts_;
};

}  // namespace zhsm
