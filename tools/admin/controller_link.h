// zhsm-admin's connection to the controller: owns the Asio thread that an
// RpcClient needs and turns every failed call into a zhsm::Error that names the
// controller, so subcommands only fill requests and read answers.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/asio.h"
#include "common/rpc_client.h"

namespace zhsm::admin {

class ControllerLink {
 public:
  // Nothing connects before the first call. `address` is "host:port".
  explicit ControllerLink(std::string address,
                          std::chrono::milliseconds timeout = std::chrono::seconds(15));
  ~ControllerLink();
  ControllerLink(const ControllerLink&) = delete;
  ControllerLink& operator=(const ControllerLink&) = delete;

  const std::string& address() const { return address_; }

  // Sends one request and waits for the answer. Returns the reply when the
  // controller answered with a response of kind `expected`; throws
  // zhsm::Error (the reply's code, or internal for an unexpected kind) otherwise.
  // `what` names the request in error messages ("cluster status").
  Reply call(const RequestFiller& fill, proto::Response::Which expected, const std::string& what);

 private:
  std::string address_;
  std::chrono::milliseconds timeout_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<RpcClient> client_;
  std::thread thread_;
};

}  // namespace zhsm::admin
