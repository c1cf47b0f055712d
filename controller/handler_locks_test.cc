// controller-db tests of the lock requests over the wire: two clients (two connections,
// two hellos) taking POSIX, flock and append locks through their tokens; conflicts that
// report the holder; token checks (another client's token, another inode, malformed
// locks) that change nothing; locks dropped by release and by a client gone past the grace
// time; hello resuming a session; dataMap.
#include <future>
#include <thread>

#include "common/rpc_client.h"
#include "common/token.h"
#include "controller/controller_service.h"
#include "controller/db/served_store_fixture.h"

namespace zhsm {
namespace {

using Kind = proto::LockKind;
using Type = proto::LockType;

class LockHandlerTest : public ServedStoreTest {
 protected:
  void adjust(ServiceOptions& o) override { o.client_grace_ms = 1; }

  void SetUp() override {
    ServedStoreTest::SetUp();
    if (HasFatalFailure()) return;
    a_ = connect();
    b_ = connect();
    id_a_ = hello(*a_, "a:/mnt");
    id_b_ = hello(*b_, "b:/mnt");
    register_backend();
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    ServedStoreTest::TearDown();
  }

  static uint64_t hello(RpcClient& c, const std::string& name, uint64_t resume = 0) {
    Reply r = c.call([&](proto::Request::Builder b) {
      auto h = b.initHello();
      h.setClientName(name);
      h.setResumeClientId(resume);
    });
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? r.response().getHello().getClientId() : 0;
  }

  // Opens (creating it first when `create`) file `name` in the root; returns (ino, token).
  static std::pair<uint64_t, uint64_t> open(RpcClient& c, const std::string& name, bool create,
                                            proto::AccessMode mode = proto::AccessMode::READ_WRITE) {
    Reply r = c.call([&](proto::Request::Builder b) {
      auto cr = b.initCreate();
      cr.setParent(1);
      cr.setName(data(name));
      cr.setMode(0644);
      cr.setExclusive(create);
      cr.setAccess(mode);
    });
    EXPECT_TRUE(r.ok()) << r.message();
    if (!r.ok()) return {0, 0};
    auto o = r.response().getOpen();
    return {o.getAttr().getIno(), o.getToken().getTokenId()};
  }

  struct LockArgs {
    uint64_t ino = 0;
    uint64_t token = 0;
    uint64_t owner = 1;
    Kind kind = Kind::POSIX;
    Type type = Type::WRITE;
    uint64_t start = 0;
    uint64_t end = UINT64_MAX;
    uint32_t pid = 4242;
  };

  static Reply lock(RpcClient& c, const LockArgs& a, bool probe = false) {
    return c.call([&](proto::Request::Builder b) {
      auto l = probe ? b.initGetLock() : b.initSetLock();
      l.setIno(a.ino);
      l.setTokenId(a.token);
      l.setOwner(a.owner);
      l.setKind(a.kind);
      l.setType(a.type);
      l.setStart(a.start);
      l.setEnd(a.end);
      l.setPid(a.pid);
    });
  }

  static bool granted(const Reply& r) {
    return r.ok() && r.response().which() == proto::Response::LOCK &&
           r.response().getLock().getGranted();
  }

  std::string metric(const std::string& line_start) {
    std::string text = metrics_.render();
    auto at = text.find("\n" + line_start);
    if (at == std::string::npos) return "";
    auto end = text.find('\n', at + 1);
    return text.substr(at + 1, end - at - 1);
  }

  std::unique_ptr<RpcClient> a_;
  std::unique_ptr<RpcClient> b_;
  uint64_t id_a_ = 0;
  uint64_t id_b_ = 0;
};

TEST_F(LockHandlerTest, ConflictsAcrossClientsReportTheHolder) {
  auto [ino, ta] = open(*a_, "f", true);
  auto [ino_b, tb] = open(*b_, "f", false);
  ASSERT_EQ(ino, ino_b);

  EXPECT_TRUE(granted(lock(*a_, {ino, ta, 7, Kind::POSIX, Type::WRITE, 0, 99, 111})));
  Reply refused = lock(*b_, {ino, tb, 7, Kind::POSIX, Type::WRITE, 50, 59, 222});
  ASSERT_TRUE(refused.ok()) << refused.message();
  auto r = refused.response().getLock();
  EXPECT_FALSE(r.getGranted());
  EXPECT_EQ(r.getConflict().getType(), Type::WRITE);
  EXPECT_EQ(r.getConflict().getStart(), 0u);
  EXPECT_EQ(r.getConflict().getEnd(), 99u);
  EXPECT_EQ(r.getConflict().getPid(), 111u);
  EXPECT_EQ(r.getConflict().getOwner(), 7u);

  Reply test = lock(*b_, {ino, tb, 7, Kind::POSIX, Type::READ, 0, UINT64_MAX, 222}, true);
  ASSERT_TRUE(test.ok()) << test.message();
  EXPECT_EQ(test.response().getLock().getConflict().getEnd(), 99u);
  Reply free = lock(*b_, {ino, tb, 7, Kind::POSIX, Type::WRITE, 100, 200, 222}, true);
  ASSERT_TRUE(free.ok());
  EXPECT_EQ(free.response().getLock().getConflict().getType(), Type::UNLOCK);

  // flock and append locks of other kinds do not conflict with the POSIX lock.
  EXPECT_TRUE(granted(lock(*b_, {ino, tb, 9, Kind::FLOCK, Type::WRITE})));
  EXPECT_TRUE(granted(lock(*b_, {ino, tb, 0, Kind::APPEND, Type::WRITE})));
  EXPECT_FALSE(granted(lock(*a_, {ino, ta, 0, Kind::APPEND, Type::WRITE})));
  EXPECT_EQ(metric("zhsm_controller_locks_held"), "zhsm_controller_locks_held 3");
  EXPECT_NE(metric("zhsm_controller_lock_conflicts_total{kind=\"posix\"}"), "");

  // Closing the open drops what was taken through it.
  EXPECT_TRUE(a_->call([&](proto::Request::Builder b) { b.initRelease().setTokenId(ta); }).ok());
  EXPECT_TRUE(granted(lock(*b_, {ino, tb, 7, Kind::POSIX, Type::WRITE, 50, 59, 222})));
}

TEST_F(LockHandlerTest, TokenChecksChangeNothing) {
  auto [ino, ta] = open(*a_, "f", true);
  auto [other, tother] = open(*a_, "g", true);
  auto [ino_b, tb] = open(*b_, "f", false, proto::AccessMode::READ);
  // Another client's token, a token for another inode, an unknown token.
  EXPECT_EQ(lock(*b_, {ino, ta}).code(), Errc::bad_token);
  EXPECT_EQ(lock(*a_, {ino, tother}).code(), Errc::bad_token);
  EXPECT_EQ(lock(*a_, {ino, 999999}).code(), Errc::bad_token);
  // An append lock needs a token that writes.
  EXPECT_EQ(lock(*b_, {ino, tb, 0, Kind::APPEND, Type::WRITE}).code(), Errc::bad_token);
  // Malformed locks.
  EXPECT_EQ(lock(*a_, {ino, ta, 1, Kind::FLOCK, Type::WRITE, 0, 10}).code(), Errc::invalid);
  EXPECT_EQ(lock(*a_, {ino, ta, 1, Kind::POSIX, Type::WRITE, 10, 5}).code(), Errc::invalid);
  EXPECT_EQ(lock(*a_, {ino, ta, 0, Kind::APPEND, Type::READ}).code(), Errc::invalid);
  EXPECT_EQ(lock(*a_, {ino, ta, 1, Kind::POSIX, Type::UNLOCK}, true).code(), Errc::invalid);
  EXPECT_EQ(lock(*a_, {ino, ta, 1, static_cast<Kind>(7), Type::WRITE}).code(), Errc::invalid);
  // A connection without hello.
  auto stranger = connect();
  EXPECT_EQ(lock(*stranger, {ino, ta}).code(), Errc::bad_token);
  // Nothing was taken: b's reader may lock the whole file.
  EXPECT_TRUE(granted(lock(*b_, {ino, tb, 3, Kind::POSIX, Type::READ})));
  EXPECT_TRUE(granted(lock(*b_, {ino, tb, 3, Kind::FLOCK, Type::WRITE})));
  EXPECT_NE(other, ino);
  EXPECT_EQ(ino_b, ino);
}

TEST_F(LockHandlerTest, AClientGonePastTheGraceLosesItsLocks) {
  auto [ino, ta] = open(*a_, "f", true);
  auto [ino_b, tb] = open(*b_, "f", false);
  ASSERT_TRUE(granted(lock(*a_, {ino, ta, 1, Kind::FLOCK, Type::WRITE})));
  ASSERT_FALSE(granted(lock(*b_, {ino_b, tb, 2, Kind::FLOCK, Type::WRITE})));
  a_->close();
  // The connection's close reaches the controller, then the sweeper's lock part runs.
  bool dropped = false;
  for (int i = 0; i < 200 && !dropped; ++i) {
    auto sweep = asio::co_spawn(io_, service_->sweep_locks(), asio::use_future);
    sweep.get();
    dropped = granted(lock(*b_, {ino_b, tb, 2, Kind::FLOCK, Type::WRITE}));
    if (!dropped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(dropped);
  EXPECT_NE(metric("zhsm_controller_locks_dropped_total{reason=\"client_gone\"}"), "");
}

TEST_F(LockHandlerTest, HelloResumesAKnownSession) {
  auto [ino, ta] = open(*a_, "f", true);
  ASSERT_TRUE(granted(lock(*a_, {ino, ta, 1, Kind::POSIX, Type::WRITE})));
  // The same process on a new connection: its token and lock stay its own.
  auto again = connect();
  EXPECT_EQ(hello(*again, "a:/mnt", id_a_), id_a_);
  EXPECT_TRUE(granted(lock(*again, {ino, ta, 1, Kind::POSIX, Type::UNLOCK})));
  EXPECT_TRUE(granted(lock(*again, {ino, ta, 1, Kind::POSIX, Type::WRITE})));
  // An unknown id is not handed out: a new session instead.
  auto stranger = connect();
  uint64_t fresh = hello(*stranger, "c:/mnt", 987654);
  EXPECT_NE(fresh, 987654u);
  EXPECT_NE(fresh, 0u);
  EXPECT_EQ(lock(*stranger, {ino, ta}).code(), Errc::bad_token);
}

TEST_F(LockHandlerTest, DataMapShowsTheCurrentDataUnderTheCallersToken) {
  auto [ino, ta] = open(*a_, "f", true);
  Reply committed = a_->call([&](proto::Request::Builder b) {
    auto c = b.initCommitData();
    c.setIno(ino);
    c.setTokenId(ta);
    c.setSize(5);
    c.setMtimeNs(42);
    c.setSetInline(true);
    c.setInlineData(data("hello"));
  });
  ASSERT_TRUE(committed.ok()) << committed.message();
  auto [ino_b, tb] = open(*b_, "f", false, proto::AccessMode::READ);
  auto map = [&](RpcClient& c, uint64_t token) {
    return c.call([&](proto::Request::Builder b) {
      auto d = b.initDataMap();
      d.setIno(ino);
      d.setTokenId(token);
    });
  };
  Reply r = map(*b_, tb);
  ASSERT_TRUE(r.ok()) << r.message();
  auto m = r.response().getDataMap();
  EXPECT_EQ(m.getAttr().getSize(), 5u);
  EXPECT_TRUE(m.getInline());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.getInlineData().begin()),
                        m.getInlineData().size()),
            "hello");
  EXPECT_EQ(m.getToken().getTokenId(), tb);
  EXPECT_EQ(verify_token(kKey, m.getToken(), now_ms()), Errc::ok);
  EXPECT_FALSE(m.hasWriteTarget() && m.getWriteTarget().getAddress().size() > 0);
  EXPECT_EQ(map(*b_, ta).code(), Errc::bad_token);  // a's token
  EXPECT_EQ(ino_b, ino);
}

}  // namespace
}  // namespace zhsm
