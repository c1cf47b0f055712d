// DirLeases: the directories this mount holds a lease on, and every name in each.
//
// The controller leases a directory to the mount that made it (the mkdir's answer carries
// the lease time; controller/dir_leases.h). While the lease lasts, no other mount adds a
// name to it without recalling the lease first, so the names this mount added itself are
// all the names there are, and a lookup of any other name is answered as missing here,
// without a round trip (op_lookup). Names removed by others may still be listed: such a
// name is looked up at the controller like any name that is not known missing.
//
// A lease is trusted until `asked + lease`, where `asked` is when the mkdir, or the last poll
// whose answer renewed it, was sent (the controller counts from when it received them), and
// only while the controller connection it was granted or renewed on is the one in use: a
// controller restarted meanwhile knows no leases. An add of this mount into a leased
// directory whose outcome is unknown (the call failed) ends the lease here, as does a
// directory past `max_names`. At most `max_dirs` leases are kept; past that the least
// recently used ends.
//
// LeaseKeeper runs the poll: one call at a time that renews the leases kept and gives back
// the ones ended here; the controller holds it until it recalls one of them (answered at
// once: the lease ends here, and the next poll gives it back) or a third of the lease time
// has passed. A failed poll ends every lease.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace zhsm::fuse {

class ControllerLink;

class DirLeases {
 public:
  using Clock = std::chrono::steady_clock;

  DirLeases(size_t max_dirs, size_t max_names) : max_dirs_(max_dirs), max_names_(max_names) {}

  // The mkdir of `dir`, sent at `asked` over connection `conn`, was answered with a lease.
  void grant(uint64_t dir, Clock::time_point asked, Clock::duration lease, uint64_t conn);
  // Whether `name` is surely not in `dir`: leased, trusted at `now` on connection `conn`,
  // and not among its names.
  bool known_missing(uint64_t dir, std::string_view name, Clock::time_point now, uint64_t conn);
  // This mount added `name` to `dir` / removed it (the controller answered success).
  void added(uint64_t dir, std::string_view name);
  void removed(uint64_t dir, std::string_view name);
  // Ends the lease on `dir` here (it is given back with the next poll).
  void end(uint64_t dir);

  struct Poll {
    std::vector<uint64_t> keep;
    std::vector<uint64_t> release;
  };
  // What the next poll sends: the leases held (those past their time end first) and the
  // ended ones not yet given back.
  Poll next_poll(Clock::time_point now);
  // The poll `sent` at `asked` on connection `conn` was answered: those of `drop` end,
  // the rest of `sent.keep` are trusted until asked + lease. Its releases are given back.
  void polled(const Poll& sent, std::span<const uint64_t> drop, Clock::time_point asked,
              Clock::duration lease, uint64_t conn);
  // The poll failed: every lease ends (and its releases are sent again with the next).
  void poll_failed(const Poll& sent);
  // Ends every lease and answers what to give back.
  std::vector<uint64_t> end_all();
  // Whether a poll has anything to send.
  bool any();

  size_t size();

 private:
  struct Lease {
    Clock::time_point until;
    uint64_t conn = 0;
    // Looked up by string_view (every lookup in a leased directory asks), not by a copy.
    struct NameHash {
      using is_transparent = void;
      size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_set<std::string, NameHash, std::equal_to<>> names;
    std::list<uint64_t>::iterator used;  // position in use_ (front: most recent)
  };
  void end_locked(uint64_t dir);
  void end_every_lease_locked();

  const size_t max_dirs_;
  const size_t max_names_;
  std::mutex mu_;  // guards everything below
  std::unordered_map<uint64_t, Lease> leases_;
  std::list<uint64_t> use_;            // leased directories, most recently used first
  std::vector<uint64_t> to_release_;   // ended here, not yet given back
  size_t names_ = 0;                   // names kept over all leases
};

class LeaseKeeper {
 public:
  LeaseKeeper(DirLeases& leases, ControllerLink& link) : leases_(leases), link_(link) {}
  ~LeaseKeeper() { stop(); }
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // A lease was granted: starts polling (the thread starts with the first).
  void wake();
  // Gives every lease back (one last poll) and stops the thread. Idempotent.
  void stop();

 private:
  void run();

  DirLeases& leases_;
  ControllerLink& link_;
  std::mutex mu_;  // guards stopping_, thread_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace zhsm::fuse
