// Tests of the data service over loopback with RpcClient: a whole write session and
// reads, and the refusals: forged, foreign-key, expired and read-only tokens, bad
// crc32, oversize pieces, unknown backends, sessions of other connections, and
// sessions aborted when their connection closes or when they sit idle.
#include <zlib.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/frame.h"
#include "common/rpc_client.h"
#include "common/rpc_server.h"
#include "common/token.h"
#include "fileserver/data_service.h"
#include "fileserver/fileserver_metrics.h"
#include "fileserver/test_dir.h"

namespace zhsm::fileserver {
namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";

uint32_t crc_of(const std::string& s) {
  return static_cast<uint32_t>(
      ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(s.data()), s.size()));
}

capnp::Data::Reader bytes(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

class DataServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { start(std::chrono::minutes(10)); }

  void start(std::chrono::milliseconds idle, size_t max_sessions = 1024) {
    root_ = make_test_dir("zhsm-data-test");
    store_ = ObjectStore::open(ObjectStore::Options{
        root_, "b1", "ssd", [this](std::string_view op, const std::filesystem::path&) {
          return op == "write" ? write_fault_.load() : 0;
        }});
    metric::describe_all(metrics_);
    auto ctx = std::make_shared<DataServiceContext>();
    ctx->cluster_key = kKey;
    ctx->backends[store_->id()] = store_.get();
    ctx->pool = &pool_;
    ctx->metrics = &metrics_;
    ctx->session_idle_timeout = idle;
    ctx->max_sessions_per_connection = max_sessions;
    std::shared_ptr<const DataServiceContext> shared = ctx;
    server_ = std::make_unique<RpcServer>(
        io_, "127.0.0.1:0",
        [shared](const std::string& peer) { return std::make_shared<DataService>(shared, peer); },
        "fileserver-test");
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<RpcClient>(io_, address_);
  }

  void TearDown() override {
    client_.reset();
    server_->stop();
    work_.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    io_.stop();
    thread_.join();
    pool_.join();
    store_.reset();
    std::filesystem::remove_all(root_);
  }

  TokenFields token(proto::AccessMode mode = proto::AccessMode::READ_WRITE) {
    TokenFields f;
    f.token_id = 7;
    f.fsid = fsid_;
    f.ino = 42;
    f.mode = mode;
    f.expires_ms = now_ms() + 60000;
    f.client_id = 3;
    return f;
  }

  Reply begin(const TokenFields& t, const Uuid& object, uint64_t keep = 0,
              const std::string& key = kKey, RpcClient* client = nullptr) {
    return (client ? client : client_.get())->call([&](proto::Request::Builder b) {
      auto r = b.initBeginWrite();
      sign_token(key, t, r.initToken());
      r.setBackend(store_->id().data());
      r.setUuid(object.data());
      r.setIndex(0);
      r.setKeepLength(keep);
    });
  }

  Reply write(uint64_t session, uint64_t offset, const std::string& data, uint32_t crc,
              RpcClient* client = nullptr) {
    return (client ? client : client_.get())->call([&](proto::Request::Builder b) {
      auto r = b.initWriteObject();
      r.setSessionId(session);
      r.setOffset(offset);
      r.setData(bytes(data));
      r.setCrc32(crc);
    });
  }

  Reply commit(uint64_t session) {
    return client_->call([&](proto::Request::Builder b) {
      auto r = b.initCommitWrite();
      r.setSessionId(session);
      r.setMtimeNs(1700000000000000000);
    });
  }

  Reply read(const TokenFields& t, const Uuid& object, uint64_t offset, uint32_t length,
             uint64_t session = 0, const std::string& key = kKey, uint64_t expect_version = 0) {
    return client_->call([&](proto::Request::Builder b) {
      auto r = b.initReadObject();
      sign_token(key, t, r.initToken());
      r.setBackend(store_->id().data());
      r.setUuid(object.data());
      r.setOffset(offset);
      r.setLength(length);
      r.setSessionId(session);
      r.setExpectVersion(expect_version);
    });
  }

  static std::string data_of(const Reply& r) {
    auto d = r.response().getReadObject();
    return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
  }

  size_t temp_files() const {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(root_ / "tmp")) ++n;
    return n;
  }

  // Waits up to a second for the temporary area to empty (aborts run on the pool).
  bool temp_area_empties() const {
    for (int i = 0; i < 100; ++i) {
      if (temp_files() == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::filesystem::path root_;
  std::unique_ptr<ObjectStore> store_;
  std::atomic<int> write_fault_{0};  // errno the backend's writes fail with; 0: none
  Metrics metrics_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::thread_pool pool_{2};
  std::unique_ptr<RpcServer> server_;
  std::thread thread_;
  std::string address_;
  std::unique_ptr<RpcClient> client_;
  Uuid fsid_ = Uuid::random();
};

TEST_F(DataServiceTest, WriteSessionCommitAndReadBack) {
  auto object = Uuid::random();
  auto b = begin(token(), object);
  ASSERT_TRUE(b.ok()) << b.message();
  uint64_t sid = b.response().getBeginWrite().getSessionId();
  EXPECT_NE(sid, 0u);
  EXPECT_EQ(b.response().getBeginWrite().getBaseVersion(), 0u);

  std::string one(300000, 'a'), two(5000, 'b');
  ASSERT_TRUE(write(sid, 0, one, crc_of(one)).ok());
  ASSERT_TRUE(write(sid, one.size(), two, crc_of(two)).ok());
  // The session is readable through this connection before the commit.
  auto through = read(token(proto::AccessMode::READ), object, one.size() - 2, 4, sid);
  ASSERT_TRUE(through.ok()) << through.message();
  EXPECT_EQ(data_of(through), "aabb");
  // The committed object does not exist yet.
  EXPECT_EQ(read(token(), object, 0, 10).code(), Errc::not_found);

  auto c = commit(sid);
  ASSERT_TRUE(c.ok()) << c.message();
  auto cr = c.response().getCommitWrite();
  std::string all = one + two;
  auto want = sha256(all.data(), all.size());
  EXPECT_EQ(cr.getVersion(), 1u);
  EXPECT_EQ(cr.getSize(), all.size());
  ASSERT_EQ(cr.getSha256().size(), 32u);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), cr.getSha256().begin()));

  auto r = read(token(proto::AccessMode::READ), object, 299990, 100000);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(data_of(r), std::string(10, 'a') + two);  // short read at the end
  // The session is over.
  EXPECT_EQ(write(sid, 0, one, crc_of(one)).code(), Errc::stale);
  EXPECT_EQ(temp_files(), 0u);
  auto text = metrics_.render();
  EXPECT_NE(text.find("zhsm_fileserver_written_bytes_total 305000"), std::string::npos) << text;
  EXPECT_NE(text.find("zhsm_fileserver_requests_total{op=\"writeObject\"}"), std::string::npos);

  // A new session on the object keeps what it asks for and starts from version 1.
  auto b2 = begin(token(), object, 10);
  ASSERT_TRUE(b2.ok()) << b2.message();
  EXPECT_EQ(b2.response().getBeginWrite().getBaseVersion(), 1u);
  auto sid2 = b2.response().getBeginWrite().getSessionId();
  auto c2 = commit(sid2);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2.response().getCommitWrite().getVersion(), 2u);
  EXPECT_EQ(c2.response().getCommitWrite().getSize(), 10u);
}

TEST_F(DataServiceTest, ReadWithExpectVersionIsStaleOnAnotherVersion) {
  auto object = Uuid::random();
  for (int i = 0; i < 2; ++i) {  // versions 1 and 2
    auto b = begin(token(), object, i == 0 ? 0 : 5);
    ASSERT_TRUE(b.ok()) << b.message();
    uint64_t sid = b.response().getBeginWrite().getSessionId();
    std::string data = "hello";
    ASSERT_TRUE(write(sid, 0, data, crc_of(data)).ok());
    ASSERT_TRUE(commit(sid).ok());
  }
  auto t = token(proto::AccessMode::READ);
  auto same = read(t, object, 0, 5, 0, kKey, 2);
  ASSERT_TRUE(same.ok()) << same.message();
  EXPECT_EQ(data_of(same), "hello");
  auto other = read(t, object, 0, 5, 0, kKey, 1);
  EXPECT_EQ(other.code(), Errc::stale);
  EXPECT_NE(other.message().find("version 2"), std::string::npos) << other.message();
  EXPECT_NE(other.message().find("version 1"), std::string::npos) << other.message();
  EXPECT_TRUE(read(t, object, 0, 5, 0, kKey, 0).ok());  // 0: any version
}

TEST_F(DataServiceTest, ForgedTokensAreBadToken) {
  auto object = Uuid::random();
  // A field changed after signing.
  auto changed = client_->call([&](proto::Request::Builder b) {
    auto r = b.initBeginWrite();
    sign_token(kKey, token(), r.initToken());
    r.getToken().setIno(43);
    r.setBackend(store_->id().data());
    r.setUuid(object.data());
  });
  EXPECT_EQ(changed.code(), Errc::bad_token) << changed.message();
  // The mode raised from read to write after signing.
  auto raised = client_->call([&](proto::Request::Builder b) {
    auto r = b.initBeginWrite();
    sign_token(kKey, token(proto::AccessMode::READ), r.initToken());
    r.getToken().setMode(proto::AccessMode::WRITE);
    r.setBackend(store_->id().data());
    r.setUuid(object.data());
  });
  EXPECT_EQ(raised.code(), Errc::bad_token);
  // Signed with another key.
  EXPECT_EQ(begin(token(), object, 0, "another-key-another-key-another-key").code(),
            Errc::bad_token);
  EXPECT_EQ(read(token(), object, 0, 10, 0, "another-key-another-key-another-key").code(),
            Errc::bad_token);
  // A token for another file cannot read this file's object.
  auto b = begin(token(), object);
  ASSERT_TRUE(commit(b.response().getBeginWrite().getSessionId()).ok());
  auto other = token();
  other.fsid = Uuid::random();
  EXPECT_EQ(read(other, object, 0, 10).code(), Errc::bad_token);
  EXPECT_EQ(begin(other, object).code(), Errc::bad_token);
  EXPECT_EQ(temp_files(), 0u);
}

TEST_F(DataServiceTest, ExpiredTokenIsTokenExpired) {
  auto t = token();
  t.expires_ms = now_ms() - 1;
  auto object = Uuid::random();
  EXPECT_EQ(begin(t, object).code(), Errc::token_expired);
  EXPECT_EQ(read(t, object, 0, 10).code(), Errc::token_expired);
}

TEST_F(DataServiceTest, ReadTokenCannotWrite) {
  auto object = Uuid::random();
  auto r = begin(token(proto::AccessMode::READ), object);
  EXPECT_EQ(r.code(), Errc::bad_token);
  EXPECT_NE(r.message().find("read"), std::string::npos) << r.message();
  EXPECT_EQ(temp_files(), 0u);
  for (auto mode : {proto::AccessMode::WRITE, proto::AccessMode::APPEND}) {
    auto ok = begin(token(mode), Uuid::random());
    EXPECT_TRUE(ok.ok()) << ok.message();
  }
}

TEST_F(DataServiceTest, BadCrcWritesNothing) {
  auto object = Uuid::random();
  auto b = begin(token(), object);
  uint64_t sid = b.response().getBeginWrite().getSessionId();
  std::string data(1000, 'x');
  auto w = write(sid, 0, data, crc_of(data) ^ 1);
  EXPECT_EQ(w.code(), Errc::invalid) << w.message();
  // The session survives and holds nothing.
  auto r = read(token(), object, 0, 2000, sid);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(data_of(r), "");
  auto c = commit(sid);
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c.response().getCommitWrite().getSize(), 0u);
}

TEST_F(DataServiceTest, MalformedRequestsAreInvalidOrNotFound) {
  auto object = Uuid::random();
  auto unknown = client_->call([&](proto::Request::Builder b) {
    auto r = b.initBeginWrite();
    sign_token(kKey, token(), r.initToken());
    r.setBackend(Uuid::random().data());
    r.setUuid(object.data());
  });
  EXPECT_EQ(unknown.code(), Errc::not_found);
  auto short_uuid = client_->call([&](proto::Request::Builder b) {
    auto r = b.initReadObject();
    sign_token(kKey, token(), r.initToken());
    r.setBackend(store_->id().data());
    r.setUuid(bytes("0123456789"));
    r.setLength(10);
  });
  EXPECT_EQ(short_uuid.code(), Errc::invalid);
  EXPECT_EQ(read(token(), object, 0, kMaxDataPiece + 1).code(), Errc::invalid);

  auto b = begin(token(), object);
  uint64_t sid = b.response().getBeginWrite().getSessionId();
  std::string big(kMaxDataPiece + 1, 'z');
  EXPECT_EQ(write(sid, 0, big, crc_of(big)).code(), Errc::invalid);
  std::string piece(kMaxDataPiece, 'z');
  EXPECT_TRUE(write(sid, 0, piece, crc_of(piece)).ok());

  auto other = client_->call([](proto::Request::Builder b) { b.setStatfs(); });
  EXPECT_EQ(other.code(), Errc::unimplemented);
}

TEST_F(DataServiceTest, SessionsBelongToTheirConnectionAndEndWithIt) {
  auto object = Uuid::random();
  RpcClient second(io_, address_);
  auto b = begin(token(), object, 0, kKey, &second);
  ASSERT_TRUE(b.ok());
  uint64_t sid = b.response().getBeginWrite().getSessionId();
  std::string data = "hello";
  ASSERT_TRUE(write(sid, 0, data, crc_of(data), &second).ok());
  // Unknown on another connection.
  EXPECT_EQ(write(sid, 0, data, crc_of(data)).code(), Errc::stale);
  EXPECT_EQ(commit(sid).code(), Errc::stale);
  EXPECT_EQ(temp_files(), 1u);
  second.close();
  EXPECT_TRUE(temp_area_empties());
  EXPECT_FALSE(store_->head(object).has_value());
}

TEST_F(DataServiceTest, AbortRemovesTheSession) {
  auto object = Uuid::random();
  auto b = begin(token(), object);
  uint64_t sid = b.response().getBeginWrite().getSessionId();
  auto abort = [&] {
    return client_->call([&](proto::Request::Builder r) { r.initAbortWrite().setSessionId(sid); });
  };
  EXPECT_TRUE(abort().ok());
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_TRUE(abort().ok());  // idempotent
  EXPECT_EQ(commit(sid).code(), Errc::stale);
}

// A session that failed (here: the disk filled up) answers every later call with its
// failure until the client aborts it, so the pieces a client has in flight behind the
// failing one all say noSpace, never that the session is unknown (stale).
TEST_F(DataServiceTest, AFailedSessionAnswersItsFailureUntilAborted) {
  auto object = Uuid::random();
  auto b = begin(token(), object);
  uint64_t sid = b.response().getBeginWrite().getSessionId();
  std::string data(1000, 'x');
  ASSERT_TRUE(write(sid, 0, data, crc_of(data)).ok());
  write_fault_ = ENOSPC;
  EXPECT_EQ(write(sid, 1000, data, crc_of(data)).code(), Errc::no_space);
  write_fault_ = 0;
  EXPECT_EQ(temp_files(), 0u) << "the failed session's temporary file stayed";
  for (uint64_t offset : {2000, 3000}) {
    auto w = write(sid, offset, data, crc_of(data));
    EXPECT_EQ(w.code(), Errc::no_space) << w.message();
  }
  EXPECT_EQ(commit(sid).code(), Errc::no_space);
  EXPECT_TRUE(client_->call([&](proto::Request::Builder r) {
    r.initAbortWrite().setSessionId(sid);
  }).ok());
  EXPECT_EQ(write(sid, 4000, data, crc_of(data)).code(), Errc::stale);
}

class IdleDataServiceTest : public DataServiceTest {
 protected:
  void SetUp() override { start(std::chrono::milliseconds(100)); }
};

TEST_F(IdleDataServiceTest, IdleSessionsAreAborted) {
  auto object = Uuid::random();
  auto b = begin(token(), object);
  uint64_t sid = b.response().getBeginWrite().getSessionId();
  EXPECT_EQ(temp_files(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_TRUE(temp_area_empties());
  std::string data = "late";
  EXPECT_EQ(write(sid, 0, data, crc_of(data)).code(), Errc::stale);
}

class LimitedDataServiceTest : public DataServiceTest {
 protected:
  void SetUp() override { start(std::chrono::minutes(10), 2); }
};

TEST_F(LimitedDataServiceTest, TooManySessionsOnOneConnectionAreRefused) {
  EXPECT_TRUE(begin(token(), Uuid::random()).ok());
  auto second = begin(token(), Uuid::random());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(begin(token(), Uuid::random()).code(), Errc::overloaded);
  EXPECT_EQ(temp_files(), 2u);
  // Ending one makes room again.
  ASSERT_TRUE(commit(second.response().getBeginWrite().getSessionId()).ok());
  EXPECT_TRUE(begin(token(), Uuid::random()).ok());
}

}  // namespace
}  // namespace zhsm::fileserver
