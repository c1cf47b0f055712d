// The helpers and per-test set-up of the metadata conformance suite (see store_fixture.h).
#include "controller/conformance/store_fixture.h"

#include "common/clock.h"

namespace zhsm {

std::string conformance_test_name(const ::testing::TestParamInfo<StoreBackend*>& info) {
  return info.param->name();
}

StoreConfig StoreTestKit::config(uint64_t chunk_size, uint64_t inline_max) {
  StoreConfig c;
  c.chunk_size = chunk_size;
  c.inline_max = inline_max;
  c.options.heartbeat_timeout_ms = kHeartbeatTimeoutMs;
  c.options.token_lifetime_ms = kTokenLifetimeMs;
  c.options.clock_ns = [this] { return now_ns_.load(); };
  return c;
}

Errc StoreTestKit::code_of(const std::function<void()>& fn) {
  try {
    fn();
    return Errc::ok;
  } catch (const Error& e) {
    return e.code();
  }
}

InodeAttr StoreTestKit::mkdir(uint64_t parent, const std::string& name, uint32_t mode) {
  NodeArgs a;
  a.parent = parent;
  a.name = name;
  a.mode = mode;
  a.caller = caller_;
  return store().mkdir(a);
}

InodeAttr StoreTestKit::mknod(uint64_t parent, const std::string& name) {
  NodeArgs a;
  a.parent = parent;
  a.name = name;
  a.type = proto::FileType::REGULAR;
  a.mode = 0644;
  a.caller = caller_;
  return store().mknod(a);
}

OpenResult StoreTestKit::create(uint64_t parent, const std::string& name, proto::AccessMode mode) {
  CreateArgs a;
  a.parent = parent;
  a.name = name;
  a.mode = 0644;
  a.caller = caller_;
  a.access = mode;
  a.client_id = 7;
  return store().create(a);
}

Uuid StoreTestKit::register_backend(const std::string& server_name,
                                    const std::string& backend_name, uint64_t free_bytes) {
  ServerReport r;
  r.id = Uuid::random();
  r.name = server_name;
  r.address = "127.0.0.1:9000";
  BackendReport b;
  b.id = Uuid::random();
  b.name = backend_name;
  b.tier = "ssd";
  b.path = "/srv/" + backend_name;
  b.total_bytes = 2ull << 30;
  b.free_bytes = free_bytes;
  r.backends.push_back(b);
  store().register_server(r);
  return b.id;
}

CommitArgs StoreTestKit::inline_commit(const OpenResult& open, const std::string& data,
                                       int64_t mtime_ns) {
  CommitArgs c;
  c.ino = open.attr.ino;
  c.token_id = open.token.token_id;
  c.size = data.size();
  c.mtime_ns = mtime_ns;
  c.set_inline = true;
  c.inline_data = data;
  return c;
}

InodeAttr StoreTestKit::commit_chunk(const OpenResult& open, uint64_t index, const Uuid& uuid,
                                     uint64_t version, uint64_t chunk_bytes, uint64_t file_size,
                                     const Uuid& backend) {
  CommitArgs c;
  c.ino = open.attr.ino;
  c.token_id = open.token.token_id;
  c.size = file_size;
  c.mtime_ns = 12345;
  ChunkUpdateArgs u;
  u.index = index;
  u.uuid = uuid;
  u.version = version;
  u.size = chunk_bytes;
  u.sha256 = std::string(32, 'h');
  u.backend = backend;
  c.chunks.push_back(u);
  return store().commit_data(c);
}

void MetaStoreTest::SetUp() {
  if (auto why = backend().unavailable(); !why.empty()) FAIL() << why;
  now_ns_ = zhsm::now_ns();
  store_ = backend().open_fresh(config());
  now_ns_ = zhsm::now_ns();  // not before the root directory's times
}

void MetaStoreTest::TearDown() {
  if (store_)
    for (const std::string& problem : backend().integrity_problems(store()))
      ADD_FAILURE() << "store integrity: " << problem;
  store_.reset();
}

}  // namespace zhsm
