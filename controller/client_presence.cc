// Connection counting per client session (see client_presence.h).
#include "controller/client_presence.h"

namespace zhsm {

void ClientPresence::attach(uint64_t client) {
  std::lock_guard lock(mu_);
  ++clients_[client].connections;
}

void ClientPresence::detach(uint64_t client, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end() || it->second.connections == 0) return;
  if (--it->second.connections == 0) it->second.gone_since = now;
}

std::vector<uint64_t> ClientPresence::take_gone(Clock::time_point now, Clock::duration grace) {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> gone;
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (it->second.connections == 0 && now - it->second.gone_since >= grace) {
      gone.push_back(it->first);
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

size_t ClientPresence::connections(uint64_t client) const {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  return it == clients_.end() ? 0 : it->second.connections;
}

}  // namespace zhsm
