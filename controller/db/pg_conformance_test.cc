// Runs the metadata conformance suite (controller/conformance/) against the PostgreSQL
// store, each test on a freshly migrated schema of the private test database.
#include "controller/db/pg_test_fixture.h"

namespace zhsm {

ZHSM_CONFORMANCE_SUITES(Postgres, postgres_backend());
ZHSM_CONFORMANCE_SUITES(CachedPostgres, cached_postgres_backend());

}  // namespace zhsm
