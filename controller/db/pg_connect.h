// The one entry point the rest of the controller uses to get a PostgreSQL-backed
// MetaStore: connect, migrate the schema, establish the settings, open the connection
// pool and prepare statements. Keeps libpqxx out of every header outside controller/db/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "controller/store_options.h"
#include "controller/meta_store.h"

namespace zhsm {

struct PgConnectOptions {
  std::string conninfo;         // libpq connection string
  size_t connections = 4;       // pool size = database worker threads
  uint64_t chunk_size = 16777216;  // for a new cluster
  uint64_t inline_max = 65536;
  StoreOptions store;
};

struct PgConnected {
  int schema_from = 0;  // schema version found
  int schema_to = 0;    // schema version now
  std::unique_ptr<MetaStore> store;
};

// Throws Error(disconnected) when the database cannot be reached, Error(invalid) for a
// database newer than this controller.
PgConnected connect_postgres(const PgConnectOptions& options);

}  // namespace zhsm
