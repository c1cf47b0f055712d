// A map of bounded size that forgets its least recently used entry first. Not
// thread-safe: its owner locks.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace zhsm {

template <class K, class V, class Hash = std::hash<K>>
class LruMap {
 public:
  explicit LruMap(size_t capacity) : capacity_(capacity) {}

  // The value of `key`, now the most recently used; nullptr when absent.
  V* find(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // Sets `key` to `value`, evicting the least recently used entry when full; returns the
  // evicted key.
  std::optional<K> put(const K& key, V value) {
    if (capacity_ == 0) return key;
    if (V* v = find(key)) {
      *v = std::move(value);
      return std::nullopt;
    }
    std::optional<K> evicted;
    if (index_.size() >= capacity_) {
      evicted = std::move(order_.back().first);
      index_.erase(*evicted);
      order_.pop_back();
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    return evicted;
  }

  // Removes and returns the least recently used entry; nullopt when empty.
  std::optional<std::pair<K, V>> pop_oldest() {
    if (order_.empty()) return std::nullopt;
    std::pair<K, V> oldest = std::move(order_.back());
    index_.erase(oldest.first);
    order_.pop_back();
    return oldest;
  }
  bool contains(const K& key) const { return index_.count(key) != 0; }

  void erase(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }

  void clear() {
    index_.clear();
    order_.clear();
  }

  size_t size() const { return index_.size(); }

 private:
  size_t capacity_;
  std::list<std::pair<K, V>> order_;  // most recently used first
  std::unordered_map<K, typename std::list<std::pair<K, V>>::iterator, Hash> index_;
};

}  // namespace zhsm
