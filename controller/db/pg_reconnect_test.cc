// controller-db tests of what only the PostgreSQL store has to survive: database
// sessions killed under it (reconnect). Concurrent callers are tested for every store in
// controller/conformance/threads_test.cc.
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "controller/db/pg_test_fixture.h"

namespace zhsm {
namespace {

using ReconnectTest = PgStoreTest;

TEST_F(ReconnectTest, KilledSessionsAreReplaced) {
  mkdir(1, "before");
  {
    pqxx::connection admin(test_conninfo());
    pqxx::nontransaction tx(admin);
    tx.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }
  // Each pooled connection is broken now; every call reconnects and succeeds.
  for (int i = 0; i < 4; ++i) mkdir(1, "after" + std::to_string(i));
  EXPECT_EQ(store().getattr(1).nlink, 7u);
}

}  // namespace
}  // namespace zhsm
