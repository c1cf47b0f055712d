// controller-db tests of start-up: migrations on an empty, a current and a too-new
// database, and the rules for the cluster settings row.
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "controller/db/pg_bootstrap.h"
#include "controller/db/pg_test_fixture.h"

namespace zhsm {
namespace {

using BootstrapTest = PgStoreTest;

TEST_F(BootstrapTest, MigrationsApplyOnceAndRefuseNewerSchemas) {
  reset_database();
  pqxx::connection conn(test_conninfo());
  auto first = apply_migrations(conn, builtin_migrations());
  EXPECT_EQ(first.from_version, 0);
  EXPECT_EQ(first.to_version, static_cast<int>(builtin_migrations().size()));
  auto second = apply_migrations(conn, builtin_migrations());
  EXPECT_EQ(second.from_version, second.to_version);
  {
    pqxx::nontransaction tx(conn);
    tx.exec("INSERT INTO schema_version (version, name) VALUES (999, '999_future.sql')");
  }
  try {
    apply_migrations(conn, builtin_migrations());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid);
    EXPECT_EQ(std::string(e.what()),
              "database schema version 999 is newer than this controller (knows up to " +
                  std::to_string(builtin_migrations().size()) + "); upgrade zhsm-controller");
  }
}

TEST_F(BootstrapTest, OlderSchemasAreMigrated) {
  reset_database();
  pqxx::connection conn(test_conninfo());
  // A database at version 1 when the controller knows every built-in migration and a
  // pretend one after them: all the missing ones are applied, in order.
  apply_migrations(conn, builtin_migrations().first(1));
  std::vector<Migration> more(builtin_migrations().begin(), builtin_migrations().end());
  more.push_back(Migration{static_cast<int>(more.size()) + 1, "999_test.sql",
                           "CREATE TABLE migration_probe (x integer)"});
  auto r = apply_migrations(conn, more);
  EXPECT_EQ(r.from_version, 1);
  EXPECT_EQ(r.to_version, static_cast<int>(more.size()));
  EXPECT_EQ(count_rows("SELECT count(*) FROM migration_probe"), 0);
}

TEST_F(BootstrapTest, ChunkSizeIsFixedAndInlineMaxOnlyGrows) {
  auto cluster = store().settings().cluster_id;
  EXPECT_EQ(store().settings().chunk_size, kChunkSize);
  open_store(kChunkSize * 2, kInlineMax / 2);
  EXPECT_EQ(store().settings().chunk_size, kChunkSize);
  EXPECT_EQ(store().settings().inline_max, kInlineMax);
  EXPECT_EQ(store().settings().cluster_id, cluster);
  open_store(kChunkSize, kInlineMax * 2);
  EXPECT_EQ(store().settings().inline_max, kInlineMax * 2);
}

}  // namespace
}  // namespace zhsm
