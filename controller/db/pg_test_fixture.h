// Test fixtures for the PostgreSQL metadata store: a private PostgreSQL for the whole test
// binary (tools/zhsm-pg under $ZHSM_SOURCE_ROOT, or an existing database named by
// $ZHSM_TEST_DB; neither is a test failure, never a skip), a freshly migrated schema for
// every test, and a store with a controllable clock. postgres_backend() is the
// conformance suite's backend (controller/conformance/store_fixture.h); PgStoreTest is the
// fixture of the PostgreSQL-only tests (migrations, settings, killed sessions, RPC).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "controller/conformance/store_fixture.h"
#include "controller/db/pg_connect.h"

namespace zhsm {

// The conninfo of the test database, or empty when none could be started.
const std::string& test_conninfo();

// The conformance suite's PostgreSQL backend: every open_fresh() drops and migrates the
// schema of the test database.
StoreBackend* postgres_backend();
// The same behind the controller's metadata cache (controller/meta_cache.h).
StoreBackend* cached_postgres_backend();

class PgStoreTest : public ::testing::Test, public StoreTestKit {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Drops everything (the store first); the next open_store() migrates afresh.
  void reset_database();
  // Opens a new store on the current database (migrations applied, settings established).
  void open_store(uint64_t chunk_size = kChunkSize, uint64_t inline_max = kInlineMax);

  // Rows of a table (for checks the interface does not expose).
  long count_rows(const std::string& sql);
};

}  // namespace zhsm
