// XattrCache: known-absent extended attributes, each for the attribute timeout.
#include "client-fuse/xattr_cache.h"

#include <algorithm>

namespace zhsm::fuse {

XattrCache::XattrCache(Clock::duration ttl, size_t capacity) : ttl_(ttl), capacity_(capacity) {}

XattrCache::Clock::time_point XattrCache::Entry::last_until() const {
  Clock::time_point last = none_until;
  for (const auto& [name, until] : absent_until) last = std::max(last, until);
  return last;
}

XattrCache::Entry& XattrCache::entry_for(uint64_t ino, Clock::time_point now) {
  if (entries_.size() >= capacity_ && !entries_.contains(ino)) {
    std::erase_if(entries_, [&](const auto& e) { return e.second.last_until() <= now; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  return entries_[ino];
}

void XattrCache::note_none(uint64_t ino, Clock::time_point now) {
  if (ttl_ <= Clock::duration::zero()) return;
  std::lock_guard lock(mu_);
  Entry& e = entry_for(ino, now);
  e.none_until = now + ttl_;
  e.absent_until.clear();
}

void XattrCache::note_listed_none(uint64_t ino, Clock::time_point asked, uint64_t epoch) {
  if (ttl_ <= Clock::duration::zero()) return;
  std::lock_guard lock(mu_);
  if (epoch != epoch_) return;
  Entry& e = entry_for(ino, asked);
  e.none_until = asked + ttl_;
  e.absent_until.clear();
}

uint64_t XattrCache::epoch() {
  std::lock_guard lock(mu_);
  return epoch_;
}

void XattrCache::note_absent(uint64_t ino, std::string_view name, Clock::time_point asked,
                             uint64_t epoch) {
  if (ttl_ <= Clock::duration::zero()) return;
  std::lock_guard lock(mu_);
  if (epoch != epoch_) return;
  Entry& e = entry_for(ino, asked);
  if (auto it = e.absent_until.find(name); it != e.absent_until.end()) {
    it->second = asked + ttl_;
    return;
  }
  if (e.absent_until.size() >= kNamesPerInode) e.absent_until.clear();
  e.absent_until.emplace(std::string(name), asked + ttl_);
}

bool XattrCache::known_absent(uint64_t ino, std::string_view name, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ino);
  if (it == entries_.end()) return false;
  if (now < it->second.none_until) return true;
  auto n = it->second.absent_until.find(name);
  return n != it->second.absent_until.end() && now < n->second;
}

bool XattrCache::known_none(uint64_t ino, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ino);
  return it != entries_.end() && now < it->second.none_until;
}

void XattrCache::forget(uint64_t ino) {
  std::lock_guard lock(mu_);
  ++epoch_;
  entries_.erase(ino);
}

size_t XattrCache::size() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace zhsm::fuse
