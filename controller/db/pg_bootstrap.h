// What the controller does to the database once at start, before serving: apply the
// schema migrations the database lacks (under an advisory lock, one transaction each) and
// establish the cluster settings row.
#pragma once

#include <cstdint>
#include <span>

#include <pqxx/connection>

#include "controller/meta_types.h"
#include "controller/migrations.h"

namespace zhsm {

struct MigrationReport {
  int from_version = 0;  // schema version found (0 = empty database)
  int to_version = 0;    // schema version now
};

// Brings the schema up to the newest of `migrations` (ascending, 1..N). Throws
// Error(invalid) when the database is newer than N, Error(disconnected) when it cannot be
// reached. Safe against controllers starting at the same time.
MigrationReport apply_migrations(pqxx::connection& conn, std::span<const Migration> migrations);

// Reads the settings row, creating it (new cluster UUID) with the given values on first
// start. chunk_size is fixed once set and inline_max may only grow; a differing request is
// logged as a warning and the stored value kept.
Settings establish_settings(pqxx::connection& conn, uint64_t chunk_size, uint64_t inline_max);

}  // namespace zhsm
