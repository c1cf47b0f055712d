// DirLeases: which mount holds the lease on which directory, and the recalls under way.
//
// A directory a mount has just made is leased to it (granted in the mkdir's answer). While
// the lease lasts, no other client adds a name to that directory (create, mknod, mkdir,
// symlink, link, rename into it) before the holder has given the lease back: so the holder
// knows every name in it and answers a lookup of any other name as missing without asking
// (client-fuse/dir_leases.h). A lease lasts `lease` from the holder's last poll that kept
// it; the holder renews it with every poll and gives it back (release) when recalled.
//
// An add by another client first calls begin_add(): when the directory is leased to someone
// else, the holder gets a recall (its held poll is woken) and the adder waits until the
// lease is released or its time is up, whichever comes first; a holder that does not answer
// delays the adder by at most the lease time.
//
// Grants happen only for directories made by their holder, and only when no add into the
// new directory by another client began since the mkdir did (`since`, from epoch() before
// the mkdir; a short ring of recent adds answers that). A recalled lease is never granted
// again: the holder no longer knows every name. Nothing is kept across a restart.
//
// Thread-safe; the callbacks run with no lock held, on whatever thread caused them, and
// must only post work elsewhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace zhsm {

class DirLeases {
 public:
  using Clock = std::chrono::steady_clock;
  using Wake = std::function<void()>;

  struct Options {
    Clock::duration lease = std::chrono::seconds(5);  // zero: no leases at all
    size_t per_client = 1024;                           // leases one client may hold
    size_t recent_adds = 4096;                          // the ring grants are checked against
  };
  explicit DirLeases(Options options);

  bool enabled() const { return options_.lease > Clock::duration::zero(); }
  // Every add waits until `until` (begin_add answers it): a controller that starts knows no
  // leases, while a mount that did not see the old one go may still trust one until its
  // time is up.
  void hold_adds_until(Clock::time_point until);
  Clock::duration lease() const { return options_.lease; }

  // Adds begun so far; read before a mkdir, passed to grant() after it.
  uint64_t epoch();
  // Leases `dir`, just made by `client` (its mkdir began at epoch `since`), to `client`
  // until now + lease. False (nothing granted) when leases are off, the client holds its
  // share, `dir` is leased already, or another client's add into `dir` began since `since`
  // (or too many adds began since to tell).
  bool grant(uint64_t dir, uint64_t client, uint64_t since, Clock::time_point now);

  // An add of a name into `dir` by `client` begins (recorded for grant()'s check). When
  // another client holds an unexpired lease on `dir`, that holder is asked to give it back
  // (its waiting poll is woken), `wake` runs once when the lease is released or dropped,
  // and the answer is the time the lease ends at the latest: wait for `wake` or that
  // time, then call begin_add() again. While adds are held (hold_adds_until), the answer
  // is the end of the hold and `wake` never runs. nullopt: go ahead (`wake` is not kept).
  std::optional<Clock::time_point> begin_add(uint64_t dir, uint64_t client,
                                             Clock::time_point now, Wake wake);

  // A lease poll of `client` arrived at `now`: answers the client's waiting poll, if any
  // (wait_recall's wake runs), releases the leases named in `release`
  // (waiting adders are woken), renews those of `keep` it holds and that are not recalled
  // to now + lease. Answers what the client must drop: its recalled leases, and those of
  // `keep` it does not hold (expired, or never granted).
  std::vector<uint64_t> poll(uint64_t client, std::span<const uint64_t> keep,
                             std::span<const uint64_t> release, Clock::time_point now);
  // The client's leases under recall, not yet released.
  std::vector<uint64_t> recalled(uint64_t client);
  // `wake` runs once when a lease of `client` is recalled (a poll waits for it). Replaces
  // (and runs) an earlier one of the same client. Answers the id to pass to
  // stop_waiting(), which forgets it unless it ran or was replaced.
  uint64_t wait_recall(uint64_t client, Wake wake);
  void stop_waiting(uint64_t client, uint64_t id);

  size_t held();
  uint64_t recalls() { std::lock_guard lock(mu_); return recalls_; }

 private:
  struct Lease {
    uint64_t holder = 0;
    Clock::time_point expires;
    bool recalling = false;
    std::vector<Wake> waiters;  // adders waiting for the release
  };
  struct Recent {
    uint64_t dir = 0;
    uint64_t client = 0;
  };
  struct Poller {
    uint64_t id = 0;
    Wake wake;
  };

  // Removes `it` and collects its waiters into `wakes` (mu_ held).
  void erase_locked(std::unordered_map<uint64_t, Lease>::iterator it, std::vector<Wake>& wakes);
  static void run(std::vector<Wake>& wakes);
  // Appends the client's leases under recall to `out` (mu_ held).
  void recalled_locked(uint64_t client, std::vector<uint64_t>& out) const;

  const Options options_;
  std::mutex mu_;  // guards everything below
  std::unordered_map<uint64_t, Lease> leases_;            // by directory
  std::unordered_map<uint64_t, size_t> per_client_;       // leases held, by client
  std::unordered_map<uint64_t, Poller> pollers_;          // a waiting poll, by client
  std::vector<Recent> recent_;                            // ring, indexed by epoch % size
  uint64_t epoch_ = 0;
  Clock::time_point hold_until_{};
  uint64_t next_poller_ = 1;
  uint64_t recalls_ = 0;
  uint64_t grants_ = 0;
  static constexpr uint64_t kSweepEvery = 256;  // grants between scans for expired leases
};

}  // namespace zhsm
