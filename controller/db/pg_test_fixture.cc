// The private PostgreSQL, the conformance backend and the per-test store of the
// controller-db tests (see pg_test_fixture.h).
#include "controller/db/pg_test_fixture.h"

#include "controller/meta_cache.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include <fmt/format.h>

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
    if (!root || !*root) {
      failure_ = "no PostgreSQL for the controller-db tests: set ZHSM_SOURCE_ROOT (meson test "
                 "does) so that tools/zhsm-pg can start one, or ZHSM_TEST_DB to a database "
                 "the tests may wipe";
      return;
    }
    script_ = std::string(root) + "/tools/zhsm-pg";
    if (::access(script_.c_str(), X_OK) != 0) {
      failure_ = "no PostgreSQL for the controller-db tests: " + script_ +
                 " is missing or not executable (set ZHSM_TEST_DB to use an existing database)";
      script_.clear();
      return;
    }
    char tmpl[] = "/tmp/zhsm-controller-db-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      failure_ = std::string("cannot create a directory for PostgreSQL: ") + std::strerror(errno);
      return;
    }
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
    if (conninfo_.empty()) failure_ = "'" + script_ + " start " + dir_ + "' printed no conninfo";
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

namespace {

void wipe_database() {
  pqxx::connection conn(test_conninfo());
  pqxx::nontransaction tx(conn);
  tx.exec("SET client_min_messages = warning");
  tx.exec("DROP SCHEMA public CASCADE");
  tx.exec("CREATE SCHEMA public");
}

std::unique_ptr<MetaStore> open_postgres(const StoreConfig& config) {
  PgConnectOptions o;
  o.conninfo = test_conninfo();
  o.connections = 2;
  o.chunk_size = config.chunk_size;
  o.inline_max = config.inline_max;
  o.store = config.options;
  return connect_postgres(o).store;
}

long count(const std::string& sql) {
  pqxx::connection conn(test_conninfo());
  pqxx::nontransaction tx(conn);
  return tx.exec(sql)[0][0].as<long>();
}

// The checks the schema's dropped foreign keys made, and the link counts: each query
// counts the rows that break one rule; {dir} is the directory type.
const std::pair<const char*, const char*> kIntegrityChecks[] = {
    {"entries in a directory that does not exist or is not a directory",
     "SELECT count(*) FROM dentries d LEFT JOIN inodes p ON p.ino = d.parent "
     "WHERE p.ino IS NULL OR p.type <> {dir}"},
    {"entries naming an inode that does not exist",
     "SELECT count(*) FROM dentries d WHERE NOT EXISTS (SELECT 1 FROM inodes i WHERE i.ino = d.ino)"},
    {"tokens of an inode that does not exist",
     "SELECT count(*) FROM tokens t WHERE NOT EXISTS (SELECT 1 FROM inodes i WHERE i.ino = t.ino)"},
    {"extended attributes of an inode that does not exist",
     "SELECT count(*) FROM xattrs x WHERE NOT EXISTS (SELECT 1 FROM inodes i WHERE i.ino = x.ino)"},
    {"chunks of an inode that does not exist",
     "SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM inodes i WHERE i.ino = c.ino)"},
    {"non-directories whose link count is not their number of entries",
     "SELECT count(*) FROM inodes i WHERE i.type <> {dir} AND i.nlink <> "
     "(SELECT count(*) FROM dentries d WHERE d.ino = i.ino)"},
    {"directories whose link count is not 2 plus their subdirectories",
     "SELECT count(*) FROM inodes i WHERE i.type = {dir} AND i.nlink > 0 AND i.nlink <> 2 + "
     "(SELECT count(*) FROM dentries d JOIN inodes c ON c.ino = d.ino "
     "WHERE d.parent = i.ino AND c.type = {dir} AND c.ino <> i.ino)"},
};

std::vector<std::string> postgres_integrity_problems() {
  constexpr int kDirectory = static_cast<int>(proto::FileType::DIRECTORY);
  std::vector<std::string> problems;
  pqxx::connection conn(test_conninfo());
  pqxx::nontransaction tx(conn);
  for (const auto& [rule, sql] : kIntegrityChecks)
    if (long n = tx.exec(fmt::format(fmt::runtime(sql), fmt::arg("dir", kDirectory)))[0][0]
                     .as<long>();
        n > 0)
      problems.push_back(fmt::format("{} {}", n, rule));
  return problems;
}

class PostgresBackend : public StoreBackend {
 public:
  std::string name() const override { return "postgres"; }
  std::string unavailable() override { return environment()->failure(); }
  std::unique_ptr<MetaStore> open_fresh(const StoreConfig& config) override {
    wipe_database();
    return open_postgres(config);
  }
  StoreCounts counts(MetaStore&) override {
    StoreCounts c;
    c.deletions = count("SELECT count(*) FROM deletions");
    c.chunks = count("SELECT count(*) FROM chunks");
    c.inline_files = count("SELECT count(*) FROM inodes WHERE inline_data IS NOT NULL");
    return c;
  }
  std::vector<std::string> integrity_problems(MetaStore&) override {
    return postgres_integrity_problems();
  }
};

// The same behind the controller's metadata cache, as the daemon runs it.
class CachedPostgresBackend : public PostgresBackend {
 public:
  std::string name() const override { return "cached_postgres"; }
  std::unique_ptr<MetaStore> open_fresh(const StoreConfig& config) override {
    return std::make_unique<CachingMetaStore>(PostgresBackend::open_fresh(config));
  }
};

}  // namespace

StoreBackend* postgres_backend() {
  static PostgresBackend backend;
  return &backend;
}

StoreBackend* cached_postgres_backend() {
  static CachedPostgresBackend backend;
  return &backend;
}

void PgStoreTest::SetUp() {
  if (auto why = environment()->failure(); !why.empty()) FAIL() << why;
  now_ns_ = zhsm::now_ns();
  reset_database();
  open_store();
  now_ns_ = zhsm::now_ns();  // after the migration stamped the root directory
}

void PgStoreTest::TearDown() { store_.reset(); }

void PgStoreTest::reset_database() {
  store_.reset();
  wipe_database();
}

void PgStoreTest::open_store(uint64_t chunk_size, uint64_t inline_max) {
  store_.reset();
  store_ = open_postgres(config(chunk_size, inline_max));
}

long PgStoreTest::count_rows(const std::string& sql) { return count(sql); }

}  // namespace zhsm
