#include "client-fuse/release_batcher.h"

#include <utility>

namespace zhsm::fuse {

ReleaseBatcher::ReleaseBatcher(Send send, std::chrono::milliseconds delay, size_t max)
    : send_(std::move(send)), delay_(delay), max_(max == 0 ? 1 : max) {
  thread_ = std::thread([this] { loop(); });
}

ReleaseBatcher::~ReleaseBatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ReleaseBatcher::add(uint64_t token_id) {
  if (token_id == 0) return;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) {
      first_ = std::chrono::steady_clock::now();
      wake = true;
    }
    queue_.push_back(token_id);
    wake = wake || queue_.size() >= max_;
  }
  if (wake) wake_.notify_all();
}

void ReleaseBatcher::flush() {
  std::unique_lock lock(mu_);
  const uint64_t mine = ++flushes_;
  wake_.notify_all();
  sent_.wait(lock, [&] { return flushed_ >= mine; });
}

size_t ReleaseBatcher::pending() {
  std::lock_guard lock(mu_);
  return queue_.size() + sending_;
}

void ReleaseBatcher::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    const bool flushing = flushes_ > flushed_;
    if (queue_.empty()) {
      if (flushing) {
        flushed_ = flushes_;
        sent_.notify_all();
        continue;
      }
      if (stopping_) return;
      wake_.wait(lock);
      continue;
    }
    const auto due = first_ + delay_;
    if (!flushing && !stopping_ && queue_.size() < max_ &&
        std::chrono::steady_clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }
    std::vector<uint64_t> batch;
    if (queue_.size() <= max_) {
      batch.swap(queue_);
    } else {
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(max_));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(max_));
      first_ = std::chrono::steady_clock::now();
    }
    const uint64_t covered = flushes_;  // every flush asked before this batch was taken
    sending_ = batch.size();
    lock.unlock();
    try {
      send_(batch);
    } catch (...) {
      // Send reports its own failures; a token not released expires at the controller.
    }
    lock.lock();
    sending_ = 0;
    if (queue_.empty() && covered > flushed_) {
      flushed_ = covered;
      sent_.notify_all();
    }
  }
}

}  // namespace zhsm::fuse
