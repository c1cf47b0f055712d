// Unit tests of zhsm-admin's subcommands against a fake controller on loopback:
// what goes over the wire, the tables, the JSON and the errors.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/rpc_server.h"
#include "common/uuid.h"
#include "tools/admin/commands.h"

namespace zhsm::admin {
namespace {

const Uuid kServer1 = *Uuid::parse("11111111-1111-4111-8111-111111111111");
const Uuid kServer2 = *Uuid::parse("22222222-2222-4222-8222-222222222222");
const Uuid kBackend1 = *Uuid::parse("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
const Uuid kBackend2 = *Uuid::parse("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb");
const Uuid kFile = *Uuid::parse("f0f0f0f0-0000-4000-8000-000000000001");
const Uuid kChunk0 = *Uuid::parse("c0c0c0c0-0000-4000-8000-000000000000");
const Uuid kChunk1 = *Uuid::parse("c1c1c1c1-0000-4000-8000-000000000001");

void fill_backend(proto::BackendInfo::Builder b, const Uuid& id, const char* name,
                  uint64_t total, uint64_t used, uint64_t objects) {
  b.setId(id.data());
  b.setName(name);
  b.setTier("ssd");
  b.setPath(std::string("/srv/") + name);
  b.setTotalBytes(total);
  b.setUsedBytes(used);
  b.setFreeBytes(total - used);
  b.setObjectCount(objects);
}

void fill_copy(proto::CopyRef::Builder c, const Uuid& backend, const char* bname,
               const Uuid& server, const char* sname, const char* address,
               proto::CopyState state, uint64_t version) {
  c.setBackend(backend.data());
  c.setBackendName(bname);
  c.setServer(server.data());
  c.setServerName(sname);
  c.setAddress(address);
  c.setState(state);
  c.setVersion(version);
}

// Serves clusterStatus with two servers (listed out of name order) and
// fileInfo for "/big" (two chunks), "/small" (inline) and "/d" (directory);
// other paths are not found. Remembers the last fileInfo path it was asked.
class FakeController : public RpcHandler {
 public:
  explicit FakeController(std::string* last_path) : last_path_(last_path) {}

  awaitable<void> handle(proto::Request::Reader req, proto::Response::Builder resp) override {
    switch (req.which()) {
      case proto::Request::CLUSTER_STATUS: {
        auto st = resp.initClusterStatus();
        auto servers = st.initServers(2);
        auto s2 = servers[0];
        s2.setId(kServer2.data());
        s2.setName("fs2");
        s2.setAddress("127.0.0.1:4002");
        s2.setState("failed");
        s2.setLastHeartbeatAgeMs(192'000);
        fill_backend(s2.initBackends(1)[0], kBackend2, "fs2-b1", 1ull << 40, 0, 0);
        auto s1 = servers[1];
        s1.setId(kServer1.data());
        s1.setName("fs1");
        s1.setAddress("127.0.0.1:4001");
        s1.setState("on");
        s1.setLastHeartbeatAgeMs(1200);
        fill_backend(s1.initBackends(1)[0], kBackend1, "fs1-b1", 100ull << 30, 3ull << 20, 7);
        st.setFiles(12);
        st.setDirectories(3);
        st.setDataObjects(7);
        st.setDataBytes(3ull << 20);
        st.setClients(1);
        st.setOpenTokens(2);
        co_return;
      }
      case proto::Request::FILE_INFO: {
        auto p = req.getFileInfo().getPath();
        std::string path(reinterpret_cast<const char*>(p.begin()), p.size());
        *last_path_ = path;
        auto fi = resp.initFileInfo();
        auto a = fi.initAttr();
        a.setIno(42);
        a.setFsid(kFile.data());
        a.setType(proto::FileType::REGULAR);
        a.setMode(0644);
        a.setNlink(1);
        a.setUid(1000);
        a.setGid(100);
        a.setMtimeNs(1'700'000'000'000'000'000);
        a.setCtimeNs(1'700'000'000'000'000'000);
        a.setAtimeNs(1'700'000'000'000'000'000);
        a.setVersion(5);
        fi.setChunkSize(16ull << 20);
        if (path == "/big") {
          a.setSize((16ull << 20) + 100);
          auto chunks = fi.initChunks(2);
          chunks[0].setIndex(0);
          chunks[0].setUuid(kChunk0.data());
          chunks[0].setVersion(3);
          chunks[0].setSize(16ull << 20);
          std::array<uint8_t, 32> sha{};
          sha[0] = 0xab;
          sha[31] = 0x01;
          chunks[0].setSha256(capnp::Data::Reader(sha.data(), sha.size()));
          auto c0 = chunks[0].initCopies(2);
          fill_copy(c0[0], kBackend1, "fs1-b1", kServer1, "fs1", "127.0.0.1:4001",
                    proto::CopyState::CURRENT, 3);
          fill_copy(c0[1], kBackend2, "fs2-b1", kServer2, "fs2", "127.0.0.1:4002",
                    proto::CopyState::OUTDATED, 2);
          chunks[1].setIndex(1);
          chunks[1].setUuid(kChunk1.data());
          chunks[1].setVersion(1);
          chunks[1].setSize(100);
          chunks[1].setSha256(capnp::Data::Reader(sha.data(), sha.size()));
          fill_copy(chunks[1].initCopies(1)[0], kBackend1, "fs1-b1", kServer1, "fs1",
                    "127.0.0.1:4001", proto::CopyState::CURRENT, 1);
        } else if (path == "/small") {
          a.setSize(5);
          fi.setInline(true);
        } else if (path == "/d") {
          a.setType(proto::FileType::DIRECTORY);
          a.setMode(0755);
          a.setNlink(2);
        } else {
          throw Error(Errc::not_found, "no such file: " + path);
        }
        co_return;
      }
      default:
        throw Error(Errc::unimplemented, "not served by the fake");
    }
  }

 private:
  std::string* last_path_;
};

class AdminCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
    server_ = std::make_unique<RpcServer>(
        io_, "127.0.0.1:0",
        [this](const std::string&) { return std::make_shared<FakeController>(&last_path_); },
        "fake-controller");
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
  std::string last_path_;
};

TEST_F(AdminCommands, StatusTables) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_status(link, false, out);
  EXPECT_EQ(out.str(), "controller " + address_ +
                           "\n"
                           "\n"
                           "SERVERS\n"
                           "NAME  ADDRESS         STATE    HEARTBEAT\n"
                           "fs1   127.0.0.1:4001  on       1.2 s ago\n"
                           "fs2   127.0.0.1:4002  failed  3m 12s ago\n"
                           "\n"
                           "BACKENDS\n"
                           "NAME    SERVER  TIER      TOTAL     USED       FREE  OBJECTS\n"
                           "fs1-b1  fs1     ssd   100.0 GiB  3.0 MiB  100.0 GiB        7\n"
                           "fs2-b1  fs2     ssd     1.0 TiB      0 B    1.0 TiB        0\n"
                           "\n"
                           "TOTALS\n"
                           "files         12\n"
                           "directories   3\n"
                           "data objects  7\n"
                           "data bytes    3.0 MiB\n"
                           "clients       1\n"
                           "open tokens   2\n");
}

TEST_F(AdminCommands, StatusJsonHasExactNumbers) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_status(link, true, out);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["controller"], address_);
  ASSERT_EQ(j["servers"].size(), 2u);
  EXPECT_EQ(j["servers"][0]["name"], "fs1");
  EXPECT_EQ(j["servers"][0]["id"], kServer1.str());
  EXPECT_EQ(j["servers"][0]["state"], "on");
  EXPECT_EQ(j["servers"][0]["heartbeat_age_ms"], 1200);
  EXPECT_EQ(j["servers"][0]["backends"][0]["total_bytes"], 100ull << 30);
  EXPECT_EQ(j["servers"][0]["backends"][0]["free_bytes"], (100ull << 30) - (3ull << 20));
  EXPECT_EQ(j["servers"][0]["backends"][0]["objects"], 7);
  EXPECT_EQ(j["servers"][0]["backends"][0]["id"], kBackend1.str());
  EXPECT_EQ(j["servers"][1]["state"], "failed");
  EXPECT_EQ(j["totals"]["data_bytes"], 3ull << 20);
  EXPECT_EQ(j["totals"]["open_tokens"], 2);
  EXPECT_EQ(j["totals"]["files"], 12);
}

TEST_F(AdminCommands, FileInfoChunked) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_file_info(link, "/big", false, out);
  EXPECT_EQ(last_path_, "/big");
  EXPECT_EQ(out.str(),
            "path        /big\n"
            "inode       42\n"
            "fsid        f0f0f0f0-0000-4000-8000-000000000001\n"
            "type        regular\n"
            "mode        0644 (-rw-r--r--)\n"
            "links       1\n"
            "owner       uid 1000, gid 100\n"
            "size        16.0 MiB (16777316 bytes)\n"
            "modified    2023-11-14 22:13:20.000000000 +0000\n"
            "changed     2023-11-14 22:13:20.000000000 +0000\n"
            "accessed    2023-11-14 22:13:20.000000000 +0000\n"
            "version     5\n"
            "data        chunked, 2 data objects\n"
            "chunk size  16.0 MiB (16777216 bytes)\n"
            "\n"
            "DATA OBJECTS\n"
            "INDEX  UUID                                  VERSION      SIZE  SHA256\n"
            "    0  c0c0c0c0-0000-4000-8000-000000000000        3  16.0 MiB  "
            "ab00000000000000000000000000000000000000000000000000000000000001\n"
            "    1  c1c1c1c1-0000-4000-8000-000000000001        1     100 B  "
            "ab00000000000000000000000000000000000000000000000000000000000001\n"
            "\n"
            "COPIES\n"
            "INDEX  BACKEND  SERVER  ADDRESS         STATE     VERSION\n"
            "    0  fs1-b1   fs1     127.0.0.1:4001  current         3\n"
            "    0  fs2-b1   fs2     127.0.0.1:4002  outdated        2\n"
            "    1  fs1-b1   fs1     127.0.0.1:4001  current         1\n");
}

TEST_F(AdminCommands, FileInfoChunkedJson) {
  ControllerLink link(address_);
  std::ostringstream out;
  run_file_info(link, "/big", true, out);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["path"], "/big");
  EXPECT_EQ(j["ino"], 42);
  EXPECT_EQ(j["fsid"], kFile.str());
  EXPECT_EQ(j["type"], "regular");
  EXPECT_EQ(j["mode"], 0644);
  EXPECT_EQ(j["size"], (16ull << 20) + 100);
  EXPECT_EQ(j["inline"], false);
  EXPECT_EQ(j["chunk_size"], 16ull << 20);
  ASSERT_EQ(j["chunks"].size(), 2u);
  EXPECT_EQ(j["chunks"][0]["uuid"], kChunk0.str());
  EXPECT_EQ(j["chunks"][0]["size"], 16ull << 20);
  EXPECT_EQ(j["chunks"][0]["sha256"],
            "ab00000000000000000000000000000000000000000000000000000000000001");
  ASSERT_EQ(j["chunks"][0]["copies"].size(), 2u);
  EXPECT_EQ(j["chunks"][0]["copies"][1]["backend"], kBackend2.str());
  EXPECT_EQ(j["chunks"][0]["copies"][1]["backend_name"], "fs2-b1");
  EXPECT_EQ(j["chunks"][0]["copies"][1]["server"], kServer2.str());
  EXPECT_EQ(j["chunks"][0]["copies"][1]["server_name"], "fs2");
  EXPECT_EQ(j["chunks"][0]["copies"][1]["address"], "127.0.0.1:4002");
  EXPECT_EQ(j["chunks"][0]["copies"][1]["state"], "outdated");
  EXPECT_EQ(j["chunks"][0]["copies"][1]["version"], 2);
}

TEST_F(AdminCommands, FileInfoInlineAndDirectory) {
  ControllerLink link(address_);
  std::ostringstream small;
  run_file_info(link, "/small", false, small);
  EXPECT_NE(small.str().find("data        inline (kept in the database)\n"), std::string::npos);
  EXPECT_EQ(small.str().find("DATA OBJECTS"), std::string::npos);

  std::ostringstream dir;
  run_file_info(link, "/d", false, dir);
  EXPECT_NE(dir.str().find("mode      0755 (drwxr-xr-x)\n"), std::string::npos);
  EXPECT_EQ(dir.str().find("chunk size"), std::string::npos);
  EXPECT_EQ(dir.str().find("DATA OBJECTS"), std::string::npos);
}

TEST_F(AdminCommands, NotFoundIsAnErrorWithItsCode) {
  ControllerLink link(address_);
  std::ostringstream out;
  try {
    run_file_info(link, "/nope", false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::not_found);
    EXPECT_NE(std::string(e.what()).find("/nope"), std::string::npos);
  }
  EXPECT_EQ(out.str(), "");
}

TEST(AdminCommandsNoController, UnreachableControllerIsDisconnected) {
  // Bind and close a socket to find a port nobody listens on.
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::string address = "127.0.0.1:" + std::to_string(a.local_endpoint().port());
  a.close();
  ControllerLink link(address, std::chrono::seconds(5));
  std::ostringstream out;
  try {
    run_status(link, false, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::disconnected) << e.what();
    EXPECT_NE(std::string(e.what()).find(address), std::string::npos);
  }
}

}  // namespace
}  // namespace zhsm::admin
