// Start-up sequence of the PostgreSQL metadata store (see pg_connect.h).
#include "controller/db/pg_connect.h"

#include <pqxx/connection>
#include <pqxx/except>

#include "common/error.h"
#include "controller/db/connection_pool.h"
#include "controller/db/pg_bootstrap.h"
#include "controller/db/pg_meta_store.h"

namespace zhsm {

PgConnected connect_postgres(const PgConnectOptions& o) {
  PgConnected out;
  Settings settings;
  {
    std::unique_ptr<pqxx::connection> conn;
    try {
      conn = std::make_unique<pqxx::connection>(o.conninfo);
    } catch (const pqxx::broken_connection& e) {
      throw Error(Errc::disconnected, std::string("cannot connect to PostgreSQL: ") + e.what());
    }
    auto report = apply_migrations(*conn, builtin_migrations());
    out.schema_from = report.from_version;
    out.schema_to = report.to_version;
    settings = establish_settings(*conn, o.chunk_size, o.inline_max);
  }
  auto pool = std::make_unique<ConnectionPool>(o.conninfo, o.connections, &PgMetaStore::prepare);
  out.store = std::make_unique<PgMetaStore>(std::move(pool), settings, o.store);
  return out;
}

}  // namespace zhsm
