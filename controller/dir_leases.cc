#include "controller/dir_leases.h"

#include <algorithm>

namespace zhsm {

DirLeases::DirLeases(Options options)
    : options_(options), recent_(std::max<size_t>(options.recent_adds, 1)) {}

void DirLeases::hold_adds_until(Clock::time_point until) {
  std::lock_guard lock(mu_);
  hold_until_ = until;
}

uint64_t DirLeases::epoch() {
  std::lock_guard lock(mu_);
  return epoch_;
}

bool DirLeases::grant(uint64_t dir, uint64_t client, uint64_t since, Clock::time_point now) {
  if (!enabled() || client == 0) return false;
  std::vector<Wake> wakes;
  bool granted = [&] {
    std::lock_guard lock(mu_);
    if (++grants_ % kSweepEvery == 0) {
      // Leases whose holders stopped polling (a mount that went away) end here.
      for (auto it = leases_.begin(); it != leases_.end();) {
        auto next = std::next(it);
        if (it->second.expires <= now) erase_locked(it, wakes);
        it = next;
      }
    }
    if (leases_.contains(dir)) return false;
    if (per_client_[client] >= options_.per_client) return false;
    if (epoch_ - since > recent_.size()) return false;  // the ring no longer tells
    for (uint64_t e = since; e < epoch_; ++e) {
      const Recent& r = recent_[e % recent_.size()];
      if (r.dir == dir && r.client != client) return false;
    }
    Lease& l = leases_[dir];
    l.holder = client;
    l.expires = now + options_.lease;
    ++per_client_[client];
    return true;
  }();
  run(wakes);
  return granted;
}

std::optional<DirLeases::Clock::time_point> DirLeases::begin_add(uint64_t dir, uint64_t client,
                                                                 Clock::time_point now,
                                                                 Wake wake) {
  if (!enabled()) return std::nullopt;
  std::vector<Wake> wakes;
  std::optional<Clock::time_point> until;
  {
    std::lock_guard lock(mu_);
    recent_[epoch_ % recent_.size()] = Recent{dir, client};
    ++epoch_;
    if (now < hold_until_) return hold_until_;
    auto it = leases_.find(dir);
    if (it != leases_.end() && it->second.holder != client) {
      Lease& l = it->second;
      if (l.expires <= now) {
        erase_locked(it, wakes);
      } else {
        if (!l.recalling) {
          l.recalling = true;
          ++recalls_;
          auto p = pollers_.find(l.holder);
          if (p != pollers_.end()) {
            wakes.push_back(std::move(p->second.wake));
            pollers_.erase(p);
          }
        }
        l.waiters.push_back(std::move(wake));
        until = l.expires;
      }
    }
  }
  run(wakes);
  return until;
}

std::vector<uint64_t> DirLeases::poll(uint64_t client, std::span<const uint64_t> keep,
                                      std::span<const uint64_t> release, Clock::time_point now) {
  std::vector<Wake> wakes;
  std::vector<uint64_t> drop;
  {
    std::lock_guard lock(mu_);
    // A later poll answers the one the client still has waiting (it is gone, or stopping).
    if (auto p = pollers_.find(client); p != pollers_.end()) {
      wakes.push_back(std::move(p->second.wake));
      pollers_.erase(p);
    }
    for (uint64_t dir : release) {
      auto it = leases_.find(dir);
      if (it != leases_.end() && it->second.holder == client) erase_locked(it, wakes);
    }
    for (uint64_t dir : keep) {
      auto it = leases_.find(dir);
      if (it == leases_.end() || it->second.holder != client) {
        drop.push_back(dir);
        continue;
      }
      if (it->second.expires <= now) {
        erase_locked(it, wakes);
        drop.push_back(dir);
        continue;
      }
      if (it->second.recalling) continue;  // reported below
      it->second.expires = now + options_.lease;
    }
    recalled_locked(client, drop);
  }
  run(wakes);
  std::sort(drop.begin(), drop.end());
  drop.erase(std::unique(drop.begin(), drop.end()), drop.end());
  return drop;
}

std::vector<uint64_t> DirLeases::recalled(uint64_t client) {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> out;
  recalled_locked(client, out);
  return out;
}

void DirLeases::recalled_locked(uint64_t client, std::vector<uint64_t>& out) const {
  for (const auto& [dir, l] : leases_)
    if (l.holder == client && l.recalling) out.push_back(dir);
}

uint64_t DirLeases::wait_recall(uint64_t client, Wake wake) {
  std::vector<Wake> wakes;
  uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_poller_++;
    auto& p = pollers_[client];
    if (p.wake) wakes.push_back(std::move(p.wake));
    p = Poller{id, std::move(wake)};
  }
  run(wakes);
  return id;
}

void DirLeases::stop_waiting(uint64_t client, uint64_t id) {
  std::lock_guard lock(mu_);
  auto p = pollers_.find(client);
  if (p != pollers_.end() && p->second.id == id) pollers_.erase(p);
}

size_t DirLeases::held() {
  std::lock_guard lock(mu_);
  return leases_.size();
}

void DirLeases::erase_locked(std::unordered_map<uint64_t, Lease>::iterator it,
                             std::vector<Wake>& wakes) {
  for (auto& w : it->second.waiters) wakes.push_back(std::move(w));
  auto c = per_client_.find(it->second.holder);
  if (c != per_client_.end() && --c->second == 0) per_client_.erase(c);
  leases_.erase(it);
}

void DirLeases::run(std::vector<Wake>& wakes) {
  for (auto& w : wakes)
    if (w) w();
}

}  // namespace zhsm
