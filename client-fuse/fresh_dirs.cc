// Keeping and serving the attributes of directories this mount changed (see fresh_dirs.h).
#include "client-fuse/fresh_dirs.h"

namespace zhsm::fuse {

void FreshDirs::note(const struct stat& st, uint64_t version, Clock::time_point now) {
  if (ttl_ <= Clock::duration::zero()) return;
  std::lock_guard lock(mu_);
  auto it = entries_.find(st.st_ino);
  if (it != entries_.end()) {
    if (it->second.version > version) return;  // a later change's answer came first
    it->second = Entry{st, version, now};
    return;
  }
  if (entries_.size() >= capacity_) entries_.clear();
  entries_.emplace(st.st_ino, Entry{st, version, now});
}

std::optional<FreshDirs::Taken> FreshDirs::take(uint64_t ino, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ino);
  if (it == entries_.end()) return std::nullopt;
  Entry e = it->second;
  entries_.erase(it);
  const Clock::duration age = now - e.noted;
  if (age >= ttl_) return std::nullopt;
  return Taken{e.st, ttl_ - age};
}

void FreshDirs::forget(uint64_t ino) {
  std::lock_guard lock(mu_);
  entries_.erase(ino);
}

void FreshDirs::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

size_t FreshDirs::size() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace zhsm::fuse
