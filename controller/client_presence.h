// ClientPresence: which client sessions have a connection to this controller, and since
// when those without one have been gone. A client's locks are dropped when it is gone
// for a grace time (doc/architecture.md, "Locks"): its process crashed or its mount went
// away. The grace lets a live client that lost its connection reconnect and resume its
// session (hello with resumeClientId) without losing its locks. In memory only; a
// controller restart starts with nobody present (and with no locks).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace zhsm {

class ClientPresence {
 public:
  using Clock = std::chrono::steady_clock;

  // A connection of `client` said hello (counts one more connection).
  void attach(uint64_t client);
  // A connection of `client` closed at `now`; when it was the last one, the client
  // counts as gone from then on.
  void detach(uint64_t client, Clock::time_point now);
  // Clients gone for at least `grace` at `now`; they are forgotten, so each is reported
  // once.
  std::vector<uint64_t> take_gone(Clock::time_point now, Clock::duration grace);
  // Connections of a client right now (for tests).
  size_t connections(uint64_t client) const;

 private:
  struct State {
    size_t connections = 0;
    Clock::time_point gone_since{};  // meaningful when connections == 0
  };
  mutable std::mutex mu_;  // guards clients_
  std::map<uint64_t, State> clients_;
};

}  // namespace zhsm
