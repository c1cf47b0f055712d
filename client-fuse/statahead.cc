// Statahead: listings of directories whose names are looked up one after another.
#include "client-fuse/statahead.h"

namespace zhsm::fuse {

Statahead::Statahead(Options options) : options_(options) {}

Statahead::Dir& Statahead::dir(uint64_t parent) {
  auto it = dirs_.find(parent);
  if (it != dirs_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second;
  }
  evict_if_full();
  lru_.push_front(parent);
  Dir& d = dirs_[parent];
  d.lru = lru_.begin();
  return d;
}

void Statahead::evict_if_full() {
  // Directories only counted towards the trigger are cheap, but bounded all the same.
  while (!lru_.empty() && dirs_.size() >= options_.max_dirs * 4 + 1) {
    dirs_.erase(lru_.back());
    lru_.pop_back();
  }
}

void Statahead::drop_listings_but(uint64_t keep) {
  size_t listed = 0;
  for (const auto& [ino, d] : dirs_) listed += d.listed && ino != keep ? 1 : 0;
  for (auto it = lru_.rbegin(); it != lru_.rend() && listed + 1 > options_.max_dirs; ++it) {
    if (*it == keep) continue;
    Dir& d = dirs_.at(*it);
    if (!d.listed) continue;
    d.listed = false;
    d.entries.clear();
    --listed;
  }
}

std::optional<Statahead::Hit> Statahead::find(uint64_t parent, std::string_view name,
                                              uint64_t changes, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = dirs_.find(parent);
  if (it == dirs_.end()) return std::nullopt;
  Dir& d = it->second;
  if (!d.listed) return std::nullopt;
  if (d.listed_under != changes || now - d.asked >= options_.ttl) {
    d.listed = false;  // stale for good: changes only move forward, and so does time
    d.entries.clear();
    return std::nullopt;
  }
  auto e = d.entries.find(std::string(name));
  if (e == d.entries.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, d.lru);
  return Hit{e->second, now - d.asked};
}

bool Statahead::note_found(uint64_t parent, uint64_t changes, Clock::time_point asked) {
  if (options_.ttl <= Clock::duration::zero() || options_.trigger == 0) return false;
  std::lock_guard lock(mu_);
  Dir& d = dir(parent);
  if (d.reading) return false;
  if (d.listed && d.listed_under == changes && asked - d.asked < options_.ttl)
    return false;  // listed, and the name was not in the part it holds
  if (d.counted_under != changes) {
    d.counted_under = changes;
    d.found = 0;
  }
  if (++d.found < options_.trigger) return false;
  d.found = 0;
  d.reading = true;
  return true;
}

void Statahead::fill(uint64_t parent, std::vector<Entry> entries, uint64_t changes,
                     Clock::time_point asked) {
  std::lock_guard lock(mu_);
  drop_listings_but(parent);
  Dir& d = dir(parent);
  d.reading = false;
  d.listed = options_.max_dirs > 0;
  d.listed_under = changes;
  d.asked = asked;
  d.entries.clear();
  if (!d.listed) return;
  d.entries.reserve(entries.size());
  for (auto& e : entries) d.entries.emplace(std::move(e.name), e.st);
}

void Statahead::abandon(uint64_t parent) {
  std::lock_guard lock(mu_);
  if (auto it = dirs_.find(parent); it != dirs_.end()) it->second.reading = false;
}

void Statahead::forget_inode(uint64_t ino) {
  std::lock_guard lock(mu_);
  for (auto& [dir_ino, d] : dirs_) {
    if (!d.listed) continue;
    for (const auto& [name, st] : d.entries) {
      if (st.st_ino != ino) continue;
      d.listed = false;
      d.entries.clear();
      break;
    }
  }
}

size_t Statahead::listings() {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [ino, d] : dirs_) n += d.listed ? 1 : 0;
  return n;
}

}  // namespace zhsm::fuse
