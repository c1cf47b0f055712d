// Tests of ControllerLink against a fake controller on loopback: registration with
// the backends, heartbeats, deletions performed and confirmed, copy tasks handed on and
// their results reported once, and registering again after the controller comes back
// (or comes up late).
#include <mutex>
#include <optional>
#include <tuple>
#include <thread>

#include <gtest/gtest.h>

#include "common/rpc_server.h"
#include "fileserver/controller_link.h"
#include "fileserver/fileserver_metrics.h"
#include "fileserver/test_dir.h"

namespace zhsm::fileserver {
namespace {

// What the fake controller saw, and what it will ask for.
struct ControllerState {
  std::mutex mu;
  int registrations = 0;
  int heartbeats = 0;
  std::string name, address;
  Uuid server_id;
  std::vector<std::pair<Uuid, uint64_t>> backends;  // id, object count of the last call
  std::vector<std::pair<Uuid, Uuid>> to_delete;     // handed out with the next answer
  std::vector<std::pair<Uuid, Uuid>> confirmed;
  std::optional<Uuid> copy_object;                  // a copy task handed out with the next answer
  uint64_t bandwidth = 0;                           // the limit every answer sets
  std::vector<std::tuple<Uuid, bool, Errc>> copied;  // uuid, ok, code
  uint32_t most_copying = 0;
  uint32_t interval_ms = 100;                       // asked of the link in every answer
  uint32_t load = 0;                                // of the last heartbeat
};

class FakeController : public RpcHandler {
 public:
  explicit FakeController(std::shared_ptr<ControllerState> state) : state_(std::move(state)) {}
  awaitable<void> handle(proto::Request::Reader req, proto::Response::Builder resp) override {
    std::lock_guard lock(state_->mu);
    capnp::List<proto::BackendInfo>::Reader backends;
    if (req.isRegisterServer()) {
      auto r = req.getRegisterServer();
      ++state_->registrations;
      state_->name = r.getName();
      state_->address = r.getAddress();
      state_->server_id = *Uuid::from_data(r.getServerId());
      backends = r.getBackends();
    } else if (req.isHeartbeat()) {
      auto h = req.getHeartbeat();
      if (state_->registrations == 0) throw Error(Errc::not_found, "unknown server");
      ++state_->heartbeats;
      backends = h.getBackends();
      for (auto d : h.getDeleted())
        state_->confirmed.emplace_back(*Uuid::from_data(d.getBackend()),
                                       *Uuid::from_data(d.getUuid()));
      for (auto c : h.getCopied())
        state_->copied.emplace_back(*Uuid::from_data(c.getUuid()), c.getOk(),
                                    static_cast<Errc>(c.getError().getCode()));
      state_->most_copying = std::max(state_->most_copying, h.getCopying());
      state_->load = h.getLoad();
    } else {
      throw Error(Errc::unimplemented, "not a controller request");
    }
    state_->backends.clear();
    for (auto b : backends) state_->backends.emplace_back(*Uuid::from_data(b.getId()), b.getObjectCount());
    auto reply = resp.initHeartbeat();
    reply.setIntervalMs(state_->interval_ms);
    auto list = reply.initDeleteObjects(static_cast<unsigned>(state_->to_delete.size()));
    for (unsigned i = 0; i < state_->to_delete.size(); ++i) {
      list[i].setBackend(state_->to_delete[i].first.data());
      list[i].setUuid(state_->to_delete[i].second.data());
    }
    state_->to_delete.clear();
    reply.setBandwidthLimit(state_->bandwidth);
    if (state_->copy_object && !state_->backends.empty()) {
      auto t = reply.initCopyObjects(1)[0];
      t.setBackend(state_->backends[0].first.data());
      t.setUuid(state_->copy_object->data());
      t.setVersion(1);
      t.setSize(10);
      t.initToken().setFsid(Uuid::random().data());
      auto source = t.initSources(1)[0];
      source.setBackend(Uuid::random().data());
      source.setBackendName("gone");
      source.setAddress("127.0.0.1:1");  // nothing listens there
      state_->copy_object.reset();
    }
    co_return;
  }

 private:
  std::shared_ptr<ControllerState> state_;
};

class ControllerLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = make_test_dir("zhsm-link-test");
    store_ = ObjectStore::open(ObjectStore::Options{root_, "b1", "hdd", {}});
    metric::describe_all(metrics_);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (link_) asio::post(io_, [link = link_] { link->stop(); });
    if (controller_) controller_->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    work_.reset();
    io_.stop();
    thread_.join();
    pool_.join();
    link_.reset();
    copies_.reset();
    store_.reset();
    std::filesystem::remove_all(root_);
  }

  void start_controller(const std::string& bind) {
    auto state = state_;
    controller_ = std::make_unique<RpcServer>(
        io_, bind, [state](const std::string&) { return std::make_shared<FakeController>(state); },
        "fake-controller");
    controller_->start();
  }

  void start_link(const std::string& controller) {
    ControllerLinkOptions o;
    o.controller = controller;
    o.server_id = server_id_;
    o.name = "fs1";
    o.address = "127.0.0.1:9999";
    o.backends = {store_.get()};
    o.pool = &pool_;
    o.metrics = &metrics_;
    o.call_timeout = std::chrono::milliseconds(500);
    o.min_backoff = std::chrono::milliseconds(20);
    o.max_backoff = std::chrono::milliseconds(100);
    CopyTasksOptions c;
    c.backends[store_->id()] = store_.get();
    c.pool = &pool_;
    c.metrics = &metrics_;
    copies_ = std::make_shared<CopyTasks>(io_, c);
    o.copies = copies_;
    o.in_flight = in_flight_;
    link_ = std::make_shared<ControllerLink>(io_, o);
    link_->start();
  }

  // Polls `pred` (under the state's lock) for up to five seconds.
  template <class P>
  bool eventually(P pred) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(state_->mu);
        if (pred(*state_)) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  Uuid put_object() {
    auto id = Uuid::random();
    auto s = store_->begin_write(id, Uuid::random(), 0, 0);
    store_->write(*s, 0, "x", 1);
    store_->commit(*s, 0);
    return id;
  }

  std::filesystem::path root_;
  std::unique_ptr<ObjectStore> store_;
  Metrics metrics_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::thread_pool pool_{2};
  std::thread thread_;
  std::shared_ptr<ControllerState> state_ = std::make_shared<ControllerState>();
  std::unique_ptr<RpcServer> controller_;
  std::shared_ptr<ControllerLink> link_;
  std::shared_ptr<CopyTasks> copies_;
  std::shared_ptr<std::atomic<uint32_t>> in_flight_ = std::make_shared<std::atomic<uint32_t>>(0);
  Uuid server_id_ = Uuid::random();
};

TEST_F(ControllerLinkTest, RegistersHeartbeatsAndDeletes) {
  auto keep = put_object();
  auto doomed = put_object();
  start_controller("127.0.0.1:0");
  start_link("127.0.0.1:" + std::to_string(controller_->port()));
  ASSERT_TRUE(eventually([](auto& s) { return s.registrations == 1 && s.heartbeats >= 1; }));
  {
    std::lock_guard lock(state_->mu);
    EXPECT_EQ(state_->server_id, server_id_);
    EXPECT_EQ(state_->name, "fs1");
    EXPECT_EQ(state_->address, "127.0.0.1:9999");
    ASSERT_EQ(state_->backends.size(), 1u);
    EXPECT_EQ(state_->backends[0].first, store_->id());
    EXPECT_EQ(state_->backends[0].second, 2u);
    state_->to_delete = {{store_->id(), doomed}, {Uuid::random(), Uuid::random()}};
  }
  ASSERT_TRUE(eventually([](auto& s) { return s.confirmed.size() == 2; }));
  EXPECT_FALSE(store_->head(doomed).has_value());
  EXPECT_TRUE(store_->head(keep).has_value());
  {
    std::lock_guard lock(state_->mu);
    EXPECT_EQ(state_->confirmed[0].second, doomed);
  }
  // Confirmed once only; the object count follows.
  ASSERT_TRUE(eventually([](auto& s) {
    return !s.backends.empty() && s.backends[0].second == 1 && s.heartbeats >= 4;
  }));
  std::lock_guard lock(state_->mu);
  EXPECT_EQ(state_->confirmed.size(), 2u);
  EXPECT_EQ(state_->registrations, 1);
}

TEST_F(ControllerLinkTest, CopyTasksRunAndTheirResultsAreReportedOnce) {
  start_controller("127.0.0.1:0");
  start_link("127.0.0.1:" + std::to_string(controller_->port()));
  ASSERT_TRUE(eventually([](auto& s) { return s.heartbeats >= 1; }));
  auto object = Uuid::random();
  {
    std::lock_guard lock(state_->mu);
    state_->copy_object = object;
    state_->bandwidth = 12345;
  }
  ASSERT_TRUE(eventually([](auto& s) { return !s.copied.empty(); }));
  EXPECT_EQ(copies_->limiter().rate(), 12345u);
  // Reported once (the next heartbeats carry it no more).
  int heartbeats = 0;
  {
    std::lock_guard lock(state_->mu);
    heartbeats = state_->heartbeats;
  }
  ASSERT_TRUE(eventually([&](auto& s) { return s.heartbeats >= heartbeats + 3; }));
  std::lock_guard lock(state_->mu);
  ASSERT_EQ(state_->copied.size(), 1u);
  EXPECT_EQ(std::get<0>(state_->copied[0]), object);
  EXPECT_FALSE(std::get<1>(state_->copied[0]));
  EXPECT_EQ(std::get<2>(state_->copied[0]), Errc::disconnected);
  EXPECT_TRUE(copies_->results(10).empty());
  EXPECT_EQ(copies_->active(), 0u);
}

// A finished copy goes out in a heartbeat at once, not after the period (a close may wait
// for it); and every heartbeat says how many data requests are in progress.
TEST_F(ControllerLinkTest, AFinishedCopyIsReportedWithoutWaitingForThePeriod) {
  in_flight_->store(3);
  start_controller("127.0.0.1:0");
  start_link("127.0.0.1:" + std::to_string(controller_->port()));
  ASSERT_TRUE(eventually([](auto& s) { return s.heartbeats >= 1; }));
  EXPECT_TRUE(eventually([](auto& s) { return s.load == 3u; }));
  {
    std::lock_guard lock(state_->mu);
    state_->interval_ms = 600000;  // ten minutes: only an early beat reports in time
    state_->copy_object = Uuid::random();
  }
  // The answer with the task may itself be the one that stretches the period.
  ASSERT_TRUE(eventually([](auto& s) { return !s.copied.empty(); }))
      << "the result waited for the ten-minute period";
}

TEST_F(ControllerLinkTest, RegistersAgainAfterTheControllerReturns) {
  start_controller("127.0.0.1:0");
  std::string address = "127.0.0.1:" + std::to_string(controller_->port());
  start_link(address);
  ASSERT_TRUE(eventually([](auto& s) { return s.heartbeats >= 1; }));
  controller_->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto fresh = std::make_shared<ControllerState>();
  {
    std::lock_guard lock(state_->mu);
    EXPECT_EQ(state_->registrations, 1);
  }
  state_ = fresh;  // a restarted controller knows nothing
  start_controller(address);
  ASSERT_TRUE(eventually([](auto& s) { return s.registrations == 1 && s.heartbeats >= 1; }));
}

TEST_F(ControllerLinkTest, WaitsForAControllerThatStartsLate) {
  // Find a free port, then leave it closed for a while.
  start_controller("127.0.0.1:0");
  std::string address = "127.0.0.1:" + std::to_string(controller_->port());
  controller_->stop();
  controller_.reset();
  start_link(address);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  start_controller(address);
  ASSERT_TRUE(eventually([](auto& s) { return s.registrations == 1 && s.heartbeats >= 1; }));
}

}  // namespace
}  // namespace zhsm::fileserver
