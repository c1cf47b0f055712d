// controller-db tests of what only the PostgreSQL store has to survive: database
// sessions killed under it (reconnect). Concurrent callers are tested for every store in
// controller/conformance/threads_test.cc.
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include <chrono>
#include <thread>

#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_test_fixture.h"

namespace zhsm {
namespace {

using ReconnectTest = PgStoreTest;

TEST_F(ReconnectTest, KilledSessionsAreReplaced) {
  int replaced = 0;  // each replacement is reported (the controller empties its cache)
  dynamic_cast<PgMetaStore&>(store()).pool().on_replaced([&] { ++replaced; });
  mkdir(1, "before");
  EXPECT_EQ(replaced, 0);
  {
    pqxx::connection admin(test_conninfo());
    pqxx::nontransaction tx(admin);
    tx.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    // pg_terminate_backend only signals; wait (at most 10 s) until the sessions are gone.
    bool gone = false;
    for (int i = 0; i < 1000 && !gone; ++i) {
      gone = tx.exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND pid <> pg_backend_pid()")[0][0]
                 .as<long>() == 0;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(gone) << "the store's sessions were not terminated";
  }
  // Each pooled connection is broken now, while idle; every call (a change sent as one
  // statement among them) notices that before sending, reconnects and succeeds.
  for (int i = 0; i < 4; ++i) mkdir(1, "after" + std::to_string(i));
  EXPECT_EQ(store().getattr(1).nlink, 7u);
  EXPECT_GE(replaced, 1);
}

}  // namespace
}  // namespace zhsm
