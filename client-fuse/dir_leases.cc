#include "client-fuse/dir_leases.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "client-fuse/controller_link.h"

namespace zhsm::fuse {

void DirLeases::grant(uint64_t dir, Clock::time_point asked, Clock::duration lease,
                      uint64_t conn) {
  std::lock_guard lock(mu_);
  if (leases_.contains(dir)) end_locked(dir);  // a directory is made once: not expected
  while (!use_.empty() && leases_.size() >= max_dirs_) end_locked(use_.back());
  use_.push_front(dir);
  Lease& l = leases_[dir];
  l.until = asked + lease;
  l.conn = conn;
  l.used = use_.begin();
}

bool DirLeases::known_missing(uint64_t dir, std::string_view name, Clock::time_point now,
                              uint64_t conn) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(dir);
  if (it == leases_.end()) return false;
  Lease& l = it->second;
  if (now >= l.until || conn != l.conn || conn == 0) return false;
  if (l.names.contains(name)) return false;
  use_.splice(use_.begin(), use_, l.used);
  return true;
}

void DirLeases::added(uint64_t dir, std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(dir);
  if (it == leases_.end()) return;
  if (names_ >= max_names_) {
    end_locked(dir);
    return;
  }
  if (it->second.names.emplace(name).second) ++names_;
}

void DirLeases::removed(uint64_t dir, std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(dir);
  if (it == leases_.end()) return;
  auto& names = it->second.names;
  if (auto n = names.find(name); n != names.end()) {
    names.erase(n);
    --names_;
  }
}

void DirLeases::end(uint64_t dir) {
  std::lock_guard lock(mu_);
  end_locked(dir);
}

void DirLeases::end_locked(uint64_t dir) {
  auto it = leases_.find(dir);
  if (it == leases_.end()) return;
  names_ -= it->second.names.size();
  use_.erase(it->second.used);
  leases_.erase(it);
  to_release_.push_back(dir);
}

DirLeases::Poll DirLeases::next_poll(Clock::time_point now) {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> over;
  for (auto& [dir, l] : leases_)
    if (now >= l.until) over.push_back(dir);
  for (uint64_t dir : over) end_locked(dir);
  Poll p;
  p.keep.reserve(leases_.size());
  for (auto& [dir, l] : leases_) p.keep.push_back(dir);
  p.release = std::move(to_release_);
  to_release_.clear();
  return p;
}

void DirLeases::polled(const Poll& sent, std::span<const uint64_t> drop, Clock::time_point asked,
                       Clock::duration lease, uint64_t conn) {
  std::lock_guard lock(mu_);
  for (uint64_t dir : drop) {
    if (leases_.contains(dir)) {
      spdlog::debug("event=lease_recalled dir={}", dir);
      end_locked(dir);
    } else if (std::find(sent.release.begin(), sent.release.end(), dir) == sent.release.end()) {
      to_release_.push_back(dir);  // ended here after this poll went out: say so again
    }
  }
  for (uint64_t dir : sent.keep) {
    auto it = leases_.find(dir);
    if (it == leases_.end()) continue;
    // Renewed only when it was granted or last renewed on this same connection.
    if (it->second.conn != conn) {
      end_locked(dir);
      continue;
    }
    it->second.until = std::max(it->second.until, asked + lease);
  }
}

void DirLeases::poll_failed(const Poll& sent) {
  std::lock_guard lock(mu_);
  to_release_.insert(to_release_.end(), sent.release.begin(), sent.release.end());
  end_every_lease_locked();
}

void DirLeases::end_every_lease_locked() {
  std::vector<uint64_t> all;
  for (auto& [dir, l] : leases_) all.push_back(dir);
  for (uint64_t dir : all) end_locked(dir);
}

std::vector<uint64_t> DirLeases::end_all() {
  std::lock_guard lock(mu_);
  end_every_lease_locked();
  std::vector<uint64_t> out = std::move(to_release_);
  to_release_.clear();
  return out;
}

bool DirLeases::any() {
  std::lock_guard lock(mu_);
  return !leases_.empty() || !to_release_.empty();
}

size_t DirLeases::size() {
  std::lock_guard lock(mu_);
  return leases_.size();
}

namespace {

Reply send_poll(ControllerLink& link, const DirLeases::Poll& p,
                std::chrono::milliseconds timeout) {
  return link.call([&](proto::Request::Builder rq) {
    auto l = rq.initLeases();
    auto keep = l.initKeep(static_cast<unsigned>(p.keep.size()));
    for (size_t i = 0; i < p.keep.size(); ++i) keep.set(static_cast<unsigned>(i), p.keep[i]);
    auto rel = l.initRelease(static_cast<unsigned>(p.release.size()));
    for (size_t i = 0; i < p.release.size(); ++i) rel.set(static_cast<unsigned>(i), p.release[i]);
  }, Retry::once, timeout);
}

}  // namespace

void LeaseKeeper::wake() {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  cv_.notify_all();
}

void LeaseKeeper::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  // The last poll gives every lease back, so that other mounts need not wait for their
  // time; it also answers the thread's poll the controller holds.
  DirLeases::Poll last;
  last.release = leases_.end_all();
  if (!last.release.empty()) {
    try {
      send_poll(link_, last, std::chrono::seconds(2));
    } catch (const std::exception& e) {
      spdlog::debug("event=lease_release_failed dirs={} msg=\"{}\"", last.release.size(),
                    e.what());
    }
  }
  if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::run() {
  using Clock = DirLeases::Clock;
  // The controller holds a poll for a third of the lease time (at most 20 s).
  constexpr auto kTimeout = std::chrono::seconds(30);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || leases_.any(); });
      if (stopping_) return;
    }
    DirLeases::Poll poll = leases_.next_poll(Clock::now());
    if (poll.keep.empty() && poll.release.empty()) continue;
    const auto asked = Clock::now();
    try {
      Reply r = send_poll(link_, poll, kTimeout);
      expect_response(r, proto::Response::LEASES);
      auto answer = r.response().getLeases();
      std::vector<uint64_t> drop;
      for (uint64_t dir : answer.getDrop()) drop.push_back(dir);
      leases_.polled(poll, drop, asked, std::chrono::milliseconds(answer.getLeaseMs()),
                     link_.connection_id());
    } catch (const std::exception& e) {
      leases_.poll_failed(poll);
      spdlog::info("event=leases_lost dirs={} msg=\"{}\"", poll.keep.size(), e.what());
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; })) return;
    }
  }
}

}  // namespace zhsm::fuse
