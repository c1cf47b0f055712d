// The open-inode table: refcounted by handles, so all handles of an inode share
// one view of its data and sessions.
#include "client-fuse/open_table.h"

namespace zhsm::fuse {

std::shared_ptr<OpenInode> OpenTable::attach(uint64_t ino) {
  std::lock_guard lock(mu_);
  auto& e = entries_[ino];
  if (!e.inode) e.inode = std::make_shared<OpenInode>(ctx_, ino);
  ++e.handles;
  return e.inode;
}

bool OpenTable::detach(uint64_t ino) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ino);
  if (it == entries_.end()) return true;
  if (--it->second.handles > 0) return false;
  entries_.erase(it);
  return true;
}

std::shared_ptr<OpenInode> OpenTable::find(uint64_t ino) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ino);
  return it == entries_.end() ? nullptr : it->second.inode;
}

std::vector<std::shared_ptr<OpenInode>> OpenTable::snapshot() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<OpenInode>> out;
  for (auto& [ino, e] : entries_) out.push_back(e.inode);
  return out;
}

OpenTable::Counts OpenTable::counts() {
  std::lock_guard lock(mu_);
  Counts c;
  c.inodes = entries_.size();
  for (const auto& [ino, e] : entries_) c.handles += e.handles;
  return c;
}

}  // namespace zhsm::fuse
