// ServedStoreTest: a PostgreSQL store test (PgStoreTest) with a real ControllerService
// answering on a loopback port, for controller-db tests that drive the controller over
// the wire the way zhsm-fuse, file servers and zhsm-admin do. A subclass may change the
// service's options (adjust) and opens its clients with connect(); it drops them before
// calling ServedStoreTest::TearDown.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/rpc_client.h"
#include "common/rpc_server.h"
#include "controller/controller_service.h"
#include "controller/db/pg_test_fixture.h"

namespace zhsm {

class ServedStoreTest : public PgStoreTest {
 protected:
  static constexpr const char* kKey = "0123456789abcdef0123456789abcdef";

  // Options beyond the cluster key, token lifetime and heartbeat timeout of the store.
  virtual void adjust(ServiceOptions&) {}

  void SetUp() override {
    PgStoreTest::SetUp();
    if (HasFatalFailure()) return;
    ServiceOptions o;
    o.cluster_key = kKey;
    o.token_lifetime_ms = kTokenLifetimeMs;
    o.heartbeat_timeout_ms = kHeartbeatTimeoutMs;
    adjust(o);
    service_ = std::make_unique<ControllerService>(store(), pool_, metrics_, o);
    server_ = std::make_unique<RpcServer>(
        io_, "127.0.0.1:0", [this](const std::string& peer) { return service_->make_handler(peer); },
        "controller");
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      server_->stop();
      work_.reset();
      io_.stop();
      thread_.join();
    }
    pool_.join();
    PgStoreTest::TearDown();
  }

  // A client of the served controller (nothing connects before its first call).
  std::unique_ptr<RpcClient> connect() {
    return std::make_unique<RpcClient>(io_, "127.0.0.1:" + std::to_string(server_->port()));
  }

  static capnp::Data::Reader data(const std::string& s) {
    return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::thread_pool pool_{2};
  Metrics metrics_;
  std::unique_ptr<ControllerService> service_;
  std::unique_ptr<RpcServer> server_;
  std::thread thread_;
};

}  // namespace zhsm
