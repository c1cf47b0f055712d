// The file-server link table.
#include "client-fuse/server_links.h"

namespace zhsm::fuse {

std::shared_ptr<RpcClient> ServerLinks::get(const std::string& address) {
  std::lock_guard lock(mu_);
  auto& link = links_[address];
  if (!link) {
    link = std::make_shared<RpcClient>(io_, address);
    if (observer_) link->set_observer(observer_);
  }
  return link;
}

void ServerLinks::close_all() {
  std::lock_guard lock(mu_);
  for (auto& [address, link] : links_) link->close();
}

}  // namespace zhsm::fuse
