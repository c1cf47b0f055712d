// controller-db tests of the RPC layer of the controller: a real RpcServer with
// ControllerService over the PostgreSQL store, driven by an RpcClient the way zhsm-fuse,
// file servers and zhsm-admin drive it. Checks that answers carry what the protocol
// promises (signed tokens, write targets, deletions) and that errors arrive as codes.
#include <future>
#include <thread>

#include "common/rpc_client.h"
#include "common/token.h"
#include "controller/controller_service.h"
#include "controller/db/served_store_fixture.h"

namespace zhsm {
namespace {

class HandlerTest : public ServedStoreTest {
 protected:
  void SetUp() override {
    ServedStoreTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = connect();
  }
  void TearDown() override {
    client_.reset();
    ServedStoreTest::TearDown();
  }

  Reply call(const RequestFiller& fill) { return client_->call(fill, std::chrono::seconds(10)); }
  // mkdir of `name` (mode 0755) in the root.
  Reply mkdir_in_root(const char* name) {
    return call([&](proto::Request::Builder b) {
      auto m = b.initMkdir();
      m.setParent(1);
      m.setName(data(name));
      m.setMode(0755);
    });
  }

  std::unique_ptr<RpcClient> client_;
};

TEST_F(HandlerTest, HelloCreateCommitReaddir) {
  auto hello = call([](proto::Request::Builder b) { b.initHello().setClientName("test:/mnt"); });
  ASSERT_TRUE(hello.ok()) << hello.message();
  auto h = hello.response().getHello();
  EXPECT_GT(h.getClientId(), 0u);
  EXPECT_EQ(h.getChunkSize(), kChunkSize);
  EXPECT_EQ(h.getInlineMax(), kInlineMax);
  EXPECT_EQ(h.getTokenLifetimeMs(), static_cast<uint64_t>(kTokenLifetimeMs));

  Uuid backend = register_backend();
  auto created = call([](proto::Request::Builder b) {
    auto c = b.initCreate();
    c.setParent(1);
    c.setName(data("file"));
    c.setMode(0644);
    c.initCaller().setUid(1000);
    c.setAccess(proto::AccessMode::READ_WRITE);
  });
  ASSERT_TRUE(created.ok()) << created.message();
  auto open = created.response().getOpen();
  EXPECT_EQ(verify_token(kKey, open.getToken(), now_ms()), Errc::ok);
  EXPECT_EQ(open.getToken().getClientId(), h.getClientId());
  EXPECT_TRUE(open.getInline());
  EXPECT_EQ(*Uuid::from_data(open.getWriteTarget().getBackend()), backend);
  EXPECT_EQ(open.getWriteTarget().getAddress(), "127.0.0.1:9000");
  uint64_t ino = open.getAttr().getIno();
  uint64_t token = open.getToken().getTokenId();

  Uuid object = Uuid::random();
  auto committed = call([&](proto::Request::Builder b) {
    auto c = b.initCommitData();
    c.setIno(ino);
    c.setTokenId(token);
    c.setSize(5000);
    c.setMtimeNs(99);
    auto u = c.initChunks(1)[0];
    u.setIndex(0);
    u.setUuid(object.data());
    u.setVersion(1);
    u.setSize(5000);
    u.setSha256(data(std::string(32, 's')));
    u.setBackend(backend.data());
  });
  ASSERT_TRUE(committed.ok()) << committed.message();
  EXPECT_EQ(committed.response().getAttr().getSize(), 5000u);

  auto listed = call([](proto::Request::Builder b) {
    auto r = b.initReaddir();
    r.setIno(1);
    r.setMaxEntries(10);
  });
  ASSERT_TRUE(listed.ok());
  auto entries = listed.response().getReaddir().getEntries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].getAttr().getIno(), ino);
  EXPECT_TRUE(listed.response().getReaddir().getEof());

  auto info = call([](proto::Request::Builder b) { b.initFileInfo().setPath(data("/file")); });
  ASSERT_TRUE(info.ok()) << info.message();
  EXPECT_FALSE(info.response().getFileInfo().getInline());
  EXPECT_EQ(info.response().getFileInfo().getChunks()[0].getCopies()[0].getServerName(), "fs1");

  auto renewed = call([&](proto::Request::Builder b) { b.initRenewToken().setTokenId(token); });
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(verify_token(kKey, renewed.response().getRenewToken(), now_ms()), Errc::ok);

  EXPECT_TRUE(call([&](proto::Request::Builder b) { b.initRelease().setTokenId(token); }).ok());
}

// A create names its parent among the touched directories exactly when it made the
// file (doc/protocol.md): the mount relies on it to know a new file has no xattrs.
TEST_F(HandlerTest, CreateTouchesTheParentOnlyWhenItMadeTheFile) {
  ASSERT_TRUE(call([](proto::Request::Builder b) { b.initHello().setClientName("t:/m"); }).ok());
  register_backend();
  auto create = [&](bool truncate) {
    return call([&](proto::Request::Builder b) {
      auto c = b.initCreate();
      c.setParent(1);
      c.setName(data("again"));
      c.setMode(0644);
      c.initCaller().setUid(1000);
      c.setTruncate(truncate);
      c.setAccess(proto::AccessMode::READ_WRITE);
    });
  };
  auto made = create(false);
  ASSERT_TRUE(made.ok()) << made.message();
  ASSERT_EQ(made.response().getTouched().size(), 1u);
  EXPECT_EQ(made.response().getTouched()[0].getIno(), 1u);
  const uint64_t ino = made.response().getOpen().getAttr().getIno();
  for (bool truncate : {false, true}) {
    auto opened = create(truncate);
    ASSERT_TRUE(opened.ok()) << opened.message();
    EXPECT_EQ(opened.response().getOpen().getAttr().getIno(), ino);
    EXPECT_EQ(opened.response().getTouched().size(), 0u) << "truncate " << truncate;
  }
}

// commitData with thenSetattr: the small file's bytes and the explicit times in one call,
// answered with the attributes after both; a setattr of another inode or with a size is
// refused before anything changes.
TEST_F(HandlerTest, CommitDataThenSetattr) {
  ASSERT_TRUE(call([](proto::Request::Builder b) { b.initHello().setClientName("t:/m"); }).ok());
  register_backend();
  auto created = call([](proto::Request::Builder b) {
    auto c = b.initCreate();
    c.setParent(1);
    c.setName(data("copied"));
    c.setMode(0600);
    c.setAccess(proto::AccessMode::WRITE);
  });
  ASSERT_TRUE(created.ok()) << created.message();
  const uint64_t ino = created.response().getOpen().getAttr().getIno();
  const uint64_t token = created.response().getOpen().getToken().getTokenId();
  auto commit = [&](uint64_t setattr_ino, bool with_size) {
    return call([&](proto::Request::Builder b) {
      auto c = b.initCommitData();
      c.setIno(ino);
      c.setTokenId(token);
      c.setSize(5);
      c.setMtimeNs(1000);
      c.setSetInline(true);
      c.setInlineData(data("hello"));
      auto s = c.initThenSetattr();
      s.setIno(setattr_ino);
      s.setSetAtime(true);
      s.setAtimeNs(7000000000);
      s.setSetMtime(true);
      s.setMtimeNs(8000000000);
      s.setSetSize(with_size);
    });
  };
  auto refused = commit(1, false);
  EXPECT_EQ(refused.code(), Errc::invalid);
  EXPECT_EQ(commit(ino, true).code(), Errc::invalid);
  auto before = call([&](proto::Request::Builder b) { b.initGetattr().setIno(ino); });
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before.response().getAttr().getSize(), 0u);  // nothing was committed

  auto done = commit(ino, false);
  ASSERT_TRUE(done.ok()) << done.message();
  auto a = done.response().getAttr();
  EXPECT_EQ(a.getSize(), 5u);
  EXPECT_EQ(a.getMtimeNs(), 8000000000);
  EXPECT_EQ(a.getAtimeNs(), 7000000000);
  auto after = call([&](proto::Request::Builder b) { b.initGetattr().setIno(ino); });
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after.response().getAttr().getMtimeNs(), 8000000000);
  EXPECT_EQ(after.response().getAttr().getSize(), 5u);
}

// A directory is leased to the client that made it (controller/dir_leases.h); another
// client's create in it waits until the holder, told by its held poll, gives it back.
TEST_F(HandlerTest, AnAddIntoALeasedDirectoryWaitsForTheHoldersRelease) {
  auto holder = call([](proto::Request::Builder b) { b.initHello().setClientName("a:/mnt"); });
  ASSERT_TRUE(holder.ok()) << holder.message();
  auto made = mkdir_in_root("leased");
  ASSERT_TRUE(made.ok()) << made.message();
  EXPECT_GT(made.response().getLeaseMs(), 0u);
  const uint64_t dir = made.response().getAttr().getIno();

  std::unique_ptr<RpcClient> other = connect();
  auto hello = other->call([](proto::Request::Builder b) { b.initHello().setClientName("b:/mnt"); });
  ASSERT_TRUE(hello.ok()) << hello.message();
  register_backend();
  std::promise<Reply> polled, created;
  client_->start_call([&](proto::Request::Builder b) { b.initLeases().initKeep(1).set(0, dir); },
                      std::chrono::seconds(10), [&](Reply r) { polled.set_value(r); });
  other->start_call([&](proto::Request::Builder b) {
    auto c = b.initCreate();
    c.setParent(dir);
    c.setName(data("x"));
    c.setMode(0644);
    c.setAccess(proto::AccessMode::READ_WRITE);
  }, std::chrono::seconds(10), [&](Reply r) { created.set_value(r); });
  auto create_done = created.get_future();
  Reply recall = polled.get_future().get();
  ASSERT_TRUE(recall.ok()) << recall.message();
  auto drop = recall.response().getLeases().getDrop();
  ASSERT_EQ(drop.size(), 1u);
  EXPECT_EQ(drop[0], dir);
  EXPECT_EQ(create_done.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
      << "the create went on before the lease came back";

  auto released = call([&](proto::Request::Builder b) { b.initLeases().initRelease(1).set(0, dir); });
  ASSERT_TRUE(released.ok()) << released.message();
  Reply c = create_done.get();
  ASSERT_TRUE(c.ok()) << c.message();
  // The lease is gone for good: a poll that keeps it is told to drop it.
  auto again = call([&](proto::Request::Builder b) { b.initLeases().initKeep(1).set(0, dir); });
  ASSERT_TRUE(again.ok()) << again.message();
  ASSERT_EQ(again.response().getLeases().getDrop().size(), 1u);
}

TEST_F(HandlerTest, ErrorsArriveAsCodes) {
  auto missing = call([](proto::Request::Builder b) {
    auto l = b.initLookup();
    l.setParent(1);
    l.setName(data("nope"));
  });
  EXPECT_EQ(missing.code(), Errc::not_found);
  EXPECT_NE(missing.message().find("nope"), std::string::npos);
  auto bad_uuid = call([](proto::Request::Builder b) {
    b.initHeartbeat().setServerId(data("short"));
  });
  EXPECT_EQ(bad_uuid.code(), Errc::invalid);
  auto data_request = call([](proto::Request::Builder b) { b.initAbortWrite().setSessionId(1); });
  EXPECT_EQ(data_request.code(), Errc::unimplemented);
  auto bad_token = call([](proto::Request::Builder b) {
    auto c = b.initCommitData();
    c.setIno(1);
    c.setTokenId(4242);
  });
  EXPECT_EQ(bad_token.code(), Errc::bad_token);
  EXPECT_NE(metrics_.render().find("zhsm_controller_errors_total{op=\"lookup\",code=\"not_found\"} 1"),
            std::string::npos);
}

// A call naming an inode that is gone answers `stale` (its client's kernel then looks the
// path up again); a missing name in a directory that is there stays `not_found`.
TEST_F(HandlerTest, CallsNamingAnInodeThatIsGoneAnswerStale) {
  ASSERT_TRUE(call([](proto::Request::Builder b) { b.initHello().setClientName("t:/m"); }).ok());
  auto made = mkdir_in_root("d");
  ASSERT_TRUE(made.ok()) << made.message();
  const uint64_t dir = made.response().getAttr().getIno();
  auto in_dir = [&](uint64_t parent) {
    return call([&](proto::Request::Builder b) {
      auto l = b.initLookup();
      l.setParent(parent);
      l.setName(data("absent"));
    });
  };
  EXPECT_EQ(in_dir(dir).code(), Errc::not_found) << "a missing name in a directory that is there";
  auto removed = call([](proto::Request::Builder b) {
    auto u = b.initRmdir();
    u.setParent(1);
    u.setName(data("d"));
  });
  ASSERT_TRUE(removed.ok()) << removed.message();
  Reply lookup = in_dir(dir);
  EXPECT_EQ(lookup.code(), Errc::stale) << lookup.message();
  auto create = call([&](proto::Request::Builder b) {
    auto c = b.initCreate();
    c.setParent(dir);
    c.setName(data("f"));
    c.setMode(0644);
    c.setAccess(proto::AccessMode::READ_WRITE);
  });
  EXPECT_EQ(create.code(), Errc::stale) << create.message();
  auto open = call([&](proto::Request::Builder b) {
    auto o = b.initOpen();
    o.setIno(dir + 1000);
    o.setMode(proto::AccessMode::READ);
  });
  EXPECT_EQ(open.code(), Errc::stale) << open.message();
  auto unlink = call([](proto::Request::Builder b) {
    auto u = b.initUnlink();
    u.setParent(1);
    u.setName(data("never-there"));
  });
  EXPECT_EQ(unlink.code(), Errc::not_found) << "a missing name in the root";
  EXPECT_NE(metrics_.render().find("zhsm_controller_errors_total{op=\"lookup\",code=\"stale\"} 1"),
            std::string::npos);
}

TEST_F(HandlerTest, ServersStatusAndStatfs) {
  auto s = Uuid::random(), b = Uuid::random();
  auto reg = call([&](proto::Request::Builder r) {
    auto reg = r.initRegisterServer();
    reg.setServerId(s.data());
    reg.setName("fsA");
    reg.setAddress("127.0.0.1:7300");
    auto be = reg.initBackends(1)[0];
    be.setId(b.data());
    be.setName("fsA-b1");
    be.setTier("ssd");
    be.setTotalBytes(1000);
    be.setFreeBytes(400);
  });
  ASSERT_TRUE(reg.ok()) << reg.message();
  EXPECT_EQ(reg.response().getHeartbeat().getIntervalMs(), 2000u);
  auto beat = call([&](proto::Request::Builder r) { r.initHeartbeat().setServerId(s.data()); });
  ASSERT_TRUE(beat.ok());
  auto statfs = call([](proto::Request::Builder r) { r.setStatfs(); });
  ASSERT_TRUE(statfs.ok());
  EXPECT_EQ(statfs.response().getStatfs().getTotalBytes(), 1000u);
  EXPECT_EQ(statfs.response().getStatfs().getFreeBytes(), 400u);
  auto status = call([](proto::Request::Builder r) { r.setClusterStatus(); });
  ASSERT_TRUE(status.ok());
  auto servers = status.response().getClusterStatus().getServers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].getState(), "on");
  EXPECT_EQ(servers[0].getBackends()[0].getName(), "fsA-b1");
  EXPECT_EQ(status.response().getClusterStatus().getDirectories(), 1u);
}

}  // namespace
}  // namespace zhsm
