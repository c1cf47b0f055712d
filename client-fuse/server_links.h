// ServerLinks: one RpcClient per file-server address, created on first use and
// kept for the life of the mount (write sessions live on one connection, so
// every call of a session must go through the same link).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/rpc_client.h"

namespace zhsm::fuse {

class ServerLinks {
 public:
  // `observer`, when given, is told of every call of every link (RpcClient::set_observer).
  explicit ServerLinks(asio::io_context& io, RpcClient::Observer observer = {})
      : io_(io), observer_(std::move(observer)) {}

  // The link to `address` ("host:port"); never null. Thread-safe.
  std::shared_ptr<RpcClient> get(const std::string& address);
  // Closes every link (at unmount).
  void close_all();

 private:
  asio::io_context& io_;
  const RpcClient::Observer observer_;
  std::mutex mu_;  // guards links_
  std::map<std::string, std::shared_ptr<RpcClient>> links_;
};

}  // namespace zhsm::fuse
