// The private PostgreSQL and per-test store of the controller-db tests (see
// pg_test_fixture.h).
#include "controller/db/pg_test_fixture.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "common/clock.h"

namespace zhsm {
namespace {

std::string run_command(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  status = ::pclose(p);
  return out;
}

std::string last_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// Starts (and at the end stops) the private PostgreSQL of this test binary.
class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (const char* db = std::getenv("ZHSM_TEST_DB"); db && *db) {
      conninfo_ = db;
      return;
    }
    const char* root = std::getenv("ZHSM_SOURCE_ROOT");
    if (!root) return;
    script_ = std::string(root) + "/tools/zhsm-pg";
    if (::access(script_.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "controller-db: %s not found; tests will be skipped\n",
                   script_.c_str());
      script_.clear();
      return;
    }
    char tmpl[] = "/tmp/zhsm-controller-db-XXXXXX";
    if (!::mkdtemp(tmpl)) return;
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);  // the postgres user (when running as root) must reach it
    int status = 0;
    std::string out = run_command(script_ + " start " + dir_, status);
    if (status != 0) {
      failure_ = "'" + script_ + " start " + dir_ + "' failed (status " + std::to_string(status) +
                 "): " + out;
      return;
    }
    conninfo_ = last_line(out);
  }

  void TearDown() override {
    if (script_.empty() || dir_.empty()) return;
    int status = 0;
    run_command(script_ + " stop " + dir_ + " >/dev/null 2>&1", status);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  const std::string& conninfo() const { return conninfo_; }
  const std::string& failure() const { return failure_; }

 private:
  std::string failure_;  // why the PostgreSQL that should be there is not
  std::string script_;
  std::string dir_;
  std::string conninfo_;
};

PgEnvironment* environment() {
  static PgEnvironment* env =
      static_cast<PgEnvironment*>(::testing::AddGlobalTestEnvironment(new PgEnvironment));
  return env;
}

// Registers the environment before main() runs the tests.
[[maybe_unused]] const bool kRegistered = (environment(), true);

}  // namespace

const std::string& test_conninfo() { return environment()->conninfo(); }

void PgStoreTest::SetUp() {
  if (!environment()->failure().empty()) FAIL() << environment()->failure();
  if (test_conninfo().empty())
    GTEST_SKIP() << "no PostgreSQL: set ZHSM_TEST_DB or provide tools/zhsm-pg";
  reset_database();
  open_store();
  now_ns_ = zhsm::now_ns();  // after the migration stamped the root directory
}

void PgStoreTest::TearDown() { store_.reset(); }

void PgStoreTest::reset_database() {
  store_.reset();
  pqxx::connection conn(test_conninfo());
  pqxx::nontransaction tx(conn);
  tx.exec("SET client_min_messages = warning");
  tx.exec("DROP SCHEMA public CASCADE");
  tx.exec("CREATE SCHEMA public");
}

void PgStoreTest::open_store(uint64_t chunk_size, uint64_t inline_max) {
  store_.reset();
  PgConnectOptions o;
  o.conninfo = test_conninfo();
  o.connections = 2;
  o.chunk_size = chunk_size;
  o.inline_max = inline_max;
  o.store.heartbeat_timeout_ms = kHeartbeatTimeoutMs;
  o.store.token_lifetime_ms = kTokenLifetimeMs;
  o.store.clock_ns = [this] { return now_ns_.load(); };
  store_ = connect_postgres(o).store;
}

Errc PgStoreTest::code_of(const std::function<void()>& fn) {
  try {
    fn();
    return Errc::ok;
  } catch (const Error& e) {
    return e.code();
  }
}

InodeAttr PgStoreTest::mkdir(uint64_t parent, const std::string& name, uint32_t mode) {
  NodeArgs a;
  a.parent = parent;
  a.name = name;
  a.mode = mode;
  a.caller = caller_;
  return store().mkdir(a);
}

InodeAttr PgStoreTest::mknod(uint64_t parent, const std::string& name) {
  NodeArgs a;
  a.parent = parent;
  a.name = name;
  a.type = proto::FileType::REGULAR;
  a.mode = 0644;
  a.caller = caller_;
  return store().mknod(a);
}

OpenResult PgStoreTest::create(uint64_t parent, const std::string& name, proto::AccessMode mode) {
  CreateArgs a;
  a.parent = parent;
  a.name = name;
  a.mode = 0644;
  a.caller = caller_;
  a.access = mode;
  a.client_id = 7;
  return store().create(a);
}

Uuid PgStoreTest::register_backend(const std::string& server_name,
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

InodeAttr PgStoreTest::commit_chunk(const OpenResult& open, uint64_t index, const Uuid& uuid,
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

long PgStoreTest::count_rows(const std::string& sql) {
  pqxx::connection conn(test_conninfo());
  pqxx::nontransaction tx(conn);
  return tx.exec(sql)[0][0].as<long>();
}

}  // namespace zhsm
