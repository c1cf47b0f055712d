// Unit tests of framing and RPC over loopback: concurrent calls, errors,
// malformed frames, timeouts and reconnects.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

#include "common/frame.h"
#include "common/rpc_client.h"
#include "common/rpc_server.h"

namespace zhsm {
namespace {

// Answers getattr with an Attr whose ino echoes the request, after a delay of
// ino milliseconds; lookup with `notFound`; setxattr with ino plus the value's size
// when every byte of the value is the low byte of ino; anything else unimplemented.
class EchoHandler : public RpcHandler {
 public:
  awaitable<void> handle(proto::Request::Reader req, proto::Response::Builder resp) override {
    switch (req.which()) {
      case proto::Request::GETATTR: {
        auto ino = req.getGetattr().getIno();
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ino));
        co_await t.async_wait(asio::use_awaitable);
        resp.initAttr().setIno(ino);
        co_return;
      }
      case proto::Request::LOOKUP:
        throw Error(Errc::not_found, "no such name");
      case proto::Request::SETXATTR: {  // value: every byte the low byte of ino
        auto x = req.getSetxattr();
        for (auto b : x.getValue())
          if (b != static_cast<uint8_t>(x.getIno())) throw Error(Errc::invalid, "value garbled");
        resp.initAttr().setIno(x.getIno() + x.getValue().size());
        co_return;
      }
      default:
        throw Error(Errc::unimplemented, "not served here");
    }
  }
};

class RpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RpcServer>(io_, "127.0.0.1:0",
                                          [](const std::string&) { return std::make_shared<EchoHandler>(); },
                                          "test");
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_->stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<RpcServer> server_;
  std::thread thread_;
  std::string address_;
};

TEST_F(RpcTest, ConcurrentCallsGetTheirOwnAnswers) {
  RpcClient client(io_, address_);
  std::vector<std::thread> callers;
  std::atomic<int> good{0};
  for (int i = 1; i <= 8; ++i) {
    callers.emplace_back([&, i] {
      auto r = client.call([&](proto::Request::Builder b) { b.initGetattr().setIno(50 - i * 5); });
      if (r.ok() && r.response().getAttr().getIno() == uint64_t(50 - i * 5)) ++good;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(good.load(), 8);
}

TEST_F(RpcTest, HandlerErrorsArriveAsCodes) {
  RpcClient client(io_, address_);
  auto r = client.call([](proto::Request::Builder b) { b.initLookup().setParent(1); });
  EXPECT_EQ(r.code(), Errc::not_found);
  auto u = client.call([](proto::Request::Builder b) { b.setStatfs(); });
  EXPECT_EQ(u.code(), Errc::unimplemented);
}

// The observer hears of each finished call, before its caller does: its kind, the time
// it took and how it ended (answered, refused, timed out).
TEST_F(RpcTest, TheObserverHearsOfEveryCall) {
  RpcClient client(io_, address_);
  struct Seen {
    proto::Request::Which kind;
    std::chrono::steady_clock::duration took;
    Errc code;
  };
  std::mutex mu;
  std::vector<Seen> seen;
  client.set_observer([&](proto::Request::Which kind, std::chrono::steady_clock::duration took,
                          Errc code) {
    std::lock_guard lock(mu);
    seen.push_back({kind, took, code});
  });
  ASSERT_TRUE(client.call([](proto::Request::Builder b) { b.initGetattr().setIno(20); }).ok());
  EXPECT_EQ(client.call([](proto::Request::Builder b) { b.initLookup().setParent(1); }).code(),
            Errc::not_found);
  EXPECT_EQ(client.call([](proto::Request::Builder b) { b.initGetattr().setIno(500); },
                        std::chrono::milliseconds(50)).code(),
            Errc::timeout);
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].kind, proto::Request::GETATTR);
  EXPECT_EQ(seen[0].code, Errc::ok);
  EXPECT_GE(seen[0].took, std::chrono::milliseconds(20));  // the handler waited 20 ms
  EXPECT_EQ(seen[1].kind, proto::Request::LOOKUP);
  EXPECT_EQ(seen[1].code, Errc::not_found);
  EXPECT_EQ(seen[2].kind, proto::Request::GETATTR);
  EXPECT_EQ(seen[2].code, Errc::timeout);
}

TEST_F(RpcTest, TimeoutFailsTheCallOnly) {
  RpcClient client(io_, address_);
  auto r = client.call([](proto::Request::Builder b) { b.initGetattr().setIno(500); },
                       std::chrono::milliseconds(50));
  EXPECT_EQ(r.code(), Errc::timeout);
  auto ok = client.call([](proto::Request::Builder b) { b.initGetattr().setIno(1); });
  EXPECT_TRUE(ok.ok());
}

TEST_F(RpcTest, UnreachablePeerIsDisconnected) {
  RpcClient client(io_, "127.0.0.1:1");
  auto r = client.call([](proto::Request::Builder b) { b.initGetattr().setIno(1); });
  EXPECT_EQ(r.code(), Errc::disconnected);
}

TEST_F(RpcTest, MalformedFrameGetsAnErrorAndServerKeepsServing) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(parse_endpoint(address_));
  // A well-framed message whose content is garbage: segment table claims a huge segment.
  uint8_t frame[4 + 16] = {16, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3, 4, 5, 6, 7, 8};
  asio::write(s, asio::buffer(frame));
  uint8_t prefix[4];
  asio::read(s, asio::buffer(prefix));
  uint32_t n = prefix[0] | prefix[1] << 8 | prefix[2] << 16 | uint32_t(prefix[3]) << 24;
  auto words = kj::heapArray<capnp::word>(n / 8);
  asio::read(s, asio::buffer(words.begin(), n));
  Reply r = Reply::from_frame(std::move(words));
  EXPECT_EQ(r.code(), Errc::invalid);

  RpcClient client(io_, address_);
  EXPECT_TRUE(client.call([](proto::Request::Builder b) { b.initGetattr().setIno(1); }).ok());
}

TEST_F(RpcTest, ReconnectsAfterServerSideClose) {
  RpcClient client(io_, address_);
  EXPECT_TRUE(client.call([](proto::Request::Builder b) { b.initGetattr().setIno(1); }).ok());
  server_->stop();
  server_ = std::make_unique<RpcServer>(io_, address_,
                                        [](const std::string&) { return std::make_shared<EchoHandler>(); },
                                        "test");
  server_->start();
  Reply r;
  for (int i = 0; i < 50 && !r.ok(); ++i) {
    r = client.call([](proto::Request::Builder b) { b.initGetattr().setIno(1); });
    if (!r.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(r.ok()) << r.message();
}

// Frames larger than the socket takes at once, one after the other and then from several
// threads with small calls in between: every frame must arrive whole, none interleaved
// with another.
TEST_F(RpcTest, LargeFramesFromManyThreadsArriveWhole) {
  RpcClient client(io_, address_);
  std::atomic<int> good{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> callers;
  auto big_call = [&](uint64_t ino) {
    const std::string value(size_t{7} << 20, static_cast<char>(static_cast<uint8_t>(ino)));
    auto r = client.call([&](proto::Request::Builder b) {
      auto x = b.initSetxattr();
      x.setIno(ino);
      x.setValue(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(value.data()),
                                     value.size()));
    });
    r.ok() && r.response().getAttr().getIno() == ino + value.size() ? ++good : ++bad;
  };
  for (uint64_t i = 0; i < 5; ++i) big_call(900 + i);
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) big_call(1000 + t * 100 + i);
    });
  }
  callers.emplace_back([&] {
    for (int i = 0; i < 200; ++i) {
      auto r = client.call([](proto::Request::Builder b) { b.initGetattr().setIno(0); });
      r.ok() ? ++good : ++bad;
    }
  });
  for (auto& t : callers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(good.load(), 225);
}

TEST_F(RpcTest, CloseFailsCallsInFlightAndTheNextCallConnectsAgain) {
  RpcClient client(io_, address_);
  ASSERT_TRUE(client.call([](proto::Request::Builder b) { b.initGetattr().setIno(0); }).ok());
  const uint64_t first = client.connection_id();
  EXPECT_NE(first, 0u);
  std::promise<Reply> slow;
  client.start_call([](proto::Request::Builder b) { b.initGetattr().setIno(5000); },
                    std::chrono::seconds(30), [&](Reply r) { slow.set_value(std::move(r)); });
  client.close();
  auto f = slow.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Errc::disconnected);
  EXPECT_TRUE(client.call([](proto::Request::Builder b) { b.initGetattr().setIno(0); }).ok());
  EXPECT_NE(client.connection_id(), first);
}

}  // namespace
}  // namespace zhsm
