// OpenTable: the OpenInode of every inode this mount has open, with the number
// of handles on it; FileHandle: what a FUSE file handle (fi->fh) points to.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "client-fuse/open_inode.h"

namespace zhsm::fuse {

// One open of a file (one struct file in the kernel). Owned by the mount from
// open/create until release.
struct FileHandle {
  std::shared_ptr<OpenInode> inode;
  uint64_t token_id = 0;
  bool can_write = false;
  bool append = false;
  // The kernel may keep the file's cached pages: the data did not change since
  // they were read or written here (see Mount::open_handle).
  bool keep_cache = false;
};

class OpenTable {
 public:
  explicit OpenTable(DataContext& ctx) : ctx_(ctx) {}

  // The inode's state, created on the first open; counts one more handle.
  std::shared_ptr<OpenInode> attach(uint64_t ino);
  // Counts one handle less; true when it was the last (the state is forgotten).
  bool detach(uint64_t ino);
  // The inode's state if this mount has it open, else null.
  std::shared_ptr<OpenInode> find(uint64_t ino);
  // Every open inode (for token renewal).
  std::vector<std::shared_ptr<OpenInode>> snapshot();
  struct Counts {
    size_t inodes = 0;   // open inodes
    size_t handles = 0;  // their handles
  };
  Counts counts();

 private:
  struct Entry {
    std::shared_ptr<OpenInode> inode;
    uint64_t handles = 0;
  };
  DataContext& ctx_;
  std::mutex mu_;  // guards entries_; never held across a call
  std::map<uint64_t, Entry> entries_;
};

}  // namespace zhsm::fuse
