// Conformance tests of clients, file servers and cluster views (every MetaStore must
// pass them, see store_fixture.h): registration conflicts, heartbeats with the deletion
// queue, statfs, cluster status and file info by path.
#include "controller/conformance/store_fixture.h"

namespace zhsm {
namespace {

ServerReport report(const Uuid& id, const std::string& name, const Uuid& backend,
                    const std::string& backend_name) {
  ServerReport r;
  r.id = id;
  r.name = name;
  r.address = "10.0.0.1:7200";
  BackendReport b;
  b.id = backend;
  b.name = backend_name;
  b.tier = "hdd";
  b.path = "/data";
  b.total_bytes = 1000;
  b.free_bytes = 600;
  b.used_bytes = 300;
  b.object_count = 3;
  r.backends.push_back(b);
  return r;
}

TEST_P(ServersTest, ClientsGetDistinctIds) {
  auto a = store().add_client("host:/mnt");
  auto b = store().add_client("host:/mnt");
  EXPECT_GT(a, 0u);
  EXPECT_NE(a, b);
  store().touch_client(a);
}

TEST_P(ServersTest, RegistrationAndNameConflicts) {
  auto s1 = Uuid::random(), b1 = Uuid::random();
  EXPECT_TRUE(store().register_server(report(s1, "fs1", b1, "b1")).empty());
  store().register_server(report(s1, "fs1", b1, "b1"));  // again: an upsert
  auto servers = store().servers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].name, "fs1");
  ASSERT_EQ(servers[0].backends.size(), 1u);
  EXPECT_EQ(servers[0].backends[0].free_bytes, 600u);
  EXPECT_EQ(servers[0].backends[0].tier, "hdd");
  try {
    store().register_server(report(Uuid::random(), "fs1", Uuid::random(), "other"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::exists);
    EXPECT_NE(std::string(e.what()).find("fs1"), std::string::npos);
  }
  try {
    store().register_server(report(Uuid::random(), "fs2", Uuid::random(), "b1"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::exists);
    EXPECT_NE(std::string(e.what()).find("b1"), std::string::npos);
  }
  EXPECT_EQ(code_of([&] { store().register_server(report(Uuid(), "x", Uuid::random(), "y")); }),
            Errc::invalid);
}

TEST_P(ServersTest, ARefusedRegistrationChangesNothing) {
  auto s1 = Uuid::random(), b1 = Uuid::random();
  store().register_server(report(s1, "fs1", b1, "b1"));
  // A new server whose second backend takes a name in use: nothing of it is kept.
  auto s2 = Uuid::random();
  auto r = report(s2, "fs2", Uuid::random(), "b2");
  r.backends.push_back(report(s2, "fs2", Uuid::random(), "b1").backends[0]);
  EXPECT_EQ(code_of([&] { store().register_server(r); }), Errc::exists);
  auto servers = store().servers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].backends.size(), 1u);
  // A known server renaming a backend to a taken name keeps its old state.
  auto again = report(s1, "fs1-renamed", Uuid::random(), "b1");
  EXPECT_EQ(code_of([&] { store().register_server(again); }), Errc::exists);
  EXPECT_EQ(store().servers().at(0).name, "fs1");
  // A backend moves with a registration of another server.
  store().register_server(report(s2, "fs2", b1, "b1"));
  servers = store().servers();
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_TRUE(servers[0].backends.empty());
  ASSERT_EQ(servers[1].backends.size(), 1u);
  EXPECT_EQ(servers[1].backends[0].id, b1);
}

TEST_P(ServersTest, HeartbeatsCarryDeletions) {
  auto s1 = Uuid::random(), b1 = Uuid::random();
  store().register_server(report(s1, "fs1", b1, "b1"));
  ServerReport unknown;
  unknown.id = Uuid::random();
  EXPECT_EQ(code_of([&] { store().heartbeat(unknown); }), Errc::not_found);

  auto r = create(1, "f");
  commit_chunk(r, 0, Uuid::random(), 1, 10, 10, b1);
  auto reader = store().open(OpenArgs{r.attr.ino, proto::AccessMode::READ, false, 7});
  auto old_uuid = reader.chunks.at(0).uuid;
  store().unlink(1, "f");
  store().release(r.token.token_id);
  EXPECT_TRUE(store().heartbeat(ServerReport{s1, "", "", {}, {}}).empty());  // still open
  store().release(reader.token.token_id);

  ServerReport beat;
  beat.id = s1;
  auto todo = store().heartbeat(beat);
  ASSERT_EQ(todo.size(), 1u);
  EXPECT_EQ(todo[0].backend, b1);
  EXPECT_EQ(todo[0].uuid, old_uuid);
  EXPECT_EQ(store().heartbeat(beat).size(), 1u);  // until confirmed
  beat.deleted = todo;
  EXPECT_TRUE(store().heartbeat(beat).empty());
  beat.deleted.clear();
  EXPECT_TRUE(store().heartbeat(beat).empty());
  // A heartbeat may carry only the numbers of its backends.
  BackendReport numbers;
  numbers.id = b1;
  numbers.free_bytes = 123;
  beat.backends.push_back(numbers);
  store().heartbeat(beat);
  EXPECT_EQ(store().servers()[0].backends[0].free_bytes, 123u);
  EXPECT_EQ(store().servers()[0].backends[0].name, "b1");
}

TEST_P(ServersTest, StatfsCountsLiveServersOnly) {
  store().register_server(report(Uuid::random(), "fs1", Uuid::random(), "b1"));
  advance_ms(kHeartbeatTimeoutMs / 2);
  store().register_server(report(Uuid::random(), "fs2", Uuid::random(), "b2"));
  auto s = store().statfs();
  EXPECT_EQ(s.total_bytes, 2000u);
  EXPECT_EQ(s.free_bytes, 1200u);
  EXPECT_GE(s.files, 1u);
  advance_ms(kHeartbeatTimeoutMs / 2 + 1);
  s = store().statfs();
  EXPECT_EQ(s.total_bytes, 1000u);
}

// Backends of one server on one filesystem share its space: statfs counts each
// (server, device) once. Another server on a device with the same number is another
// machine and counts again; backends that report no device (0) count one by one.
TEST_P(ServersTest, StatfsCountsEachDeviceOfAServerOnce) {
  auto backend = [](const std::string& name, uint64_t device, uint64_t total, uint64_t free) {
    BackendReport b;
    b.id = Uuid::random();
    b.name = name;
    b.tier = "hdd";
    b.path = "/data/" + name;
    b.total_bytes = total;
    b.free_bytes = free;
    b.device_id = device;
    return b;
  };
  ServerReport a;
  a.id = Uuid::random();
  a.name = "fs1";
  a.address = "10.0.0.1:7200";
  a.backends = {backend("a1", 7, 1000, 300), backend("a2", 7, 1000, 310),
                backend("a3", 8, 500, 100)};
  store().register_server(a);
  auto s = store().statfs();
  EXPECT_EQ(s.total_bytes, 1500u);
  EXPECT_EQ(s.free_bytes, 410u);
  ServerReport b;
  b.id = Uuid::random();
  b.name = "fs2";
  b.address = "10.0.0.2:7200";
  b.backends = {backend("b1", 7, 1000, 600), backend("b2", 0, 200, 20),
                backend("b3", 0, 200, 20)};
  store().register_server(b);
  s = store().statfs();
  EXPECT_EQ(s.total_bytes, 1500u + 1000u + 400u);
  EXPECT_EQ(s.free_bytes, 410u + 600u + 40u);
  // The device is kept and shown, and a numbers-only heartbeat updates it.
  auto servers = store().servers();
  ASSERT_EQ(servers.size(), 2u);
  ASSERT_EQ(servers[0].backends.size(), 3u);
  EXPECT_EQ(servers[0].backends[0].device_id, 7u);
  EXPECT_EQ(servers[0].backends[2].device_id, 8u);
  ServerReport beat;
  beat.id = a.id;
  BackendReport moved;
  moved.id = a.backends[2].id;
  moved.total_bytes = 500;
  moved.free_bytes = 100;
  moved.device_id = 7;  // a3 now lives on the device of a1 and a2
  beat.backends.push_back(moved);
  store().heartbeat(beat);
  EXPECT_EQ(store().servers()[0].backends[2].device_id, 7u);
  s = store().statfs();
  EXPECT_EQ(s.total_bytes, 1000u + 1000u + 400u);
}

TEST_P(ServersTest, ClusterInfoCounts) {
  auto b = register_backend();
  auto d = mkdir(1, "d");
  auto r = create(d.ino, "f");
  commit_chunk(r, 0, Uuid::random(), 1, 100, 100, b);
  store().add_client("c");
  auto info = store().cluster_info();
  EXPECT_EQ(info.servers.size(), 1u);
  EXPECT_EQ(info.files, 1u);
  EXPECT_EQ(info.directories, 2u);
  EXPECT_EQ(info.data_objects, 1u);
  EXPECT_EQ(info.data_bytes, 100u);
  EXPECT_EQ(info.clients, 1u);
  EXPECT_EQ(info.open_tokens, 1u);
}

TEST_P(ServersTest, FileInfoWalksPaths) {
  auto b = register_backend();
  auto d = mkdir(1, "d");
  auto r = create(d.ino, "f");
  commit_chunk(r, 1, Uuid::random(), 1, 100, kChunkSize + 100, b);
  auto root = store().file_info("/");
  EXPECT_EQ(root.attr.ino, 1u);
  EXPECT_EQ(root.chunk_size, kChunkSize);
  auto f = store().file_info("/d//f");
  EXPECT_EQ(f.attr.ino, r.attr.ino);
  EXPECT_FALSE(f.is_inline);
  ASSERT_EQ(f.chunks.size(), 1u);
  EXPECT_EQ(f.chunks[0].index, 1u);
  EXPECT_EQ(f.chunks[0].copies.size(), 1u);
  EXPECT_EQ(store().file_info("/d/../d/./f").attr.ino, r.attr.ino);
  create(1, "small");
  EXPECT_TRUE(store().file_info("/small").is_inline);
  EXPECT_EQ(code_of([&] { store().file_info("/d/missing"); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { store().file_info("/d/f/x"); }), Errc::not_dir);
  EXPECT_EQ(code_of([&] { store().file_info("relative"); }), Errc::invalid);
}

}  // namespace
}  // namespace zhsm
