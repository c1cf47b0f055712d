// Construction and statement preparation of PgMetaStore (see pg_meta_store.h); the
// operations live in the pg_*.cc files named there.
#include "controller/db/pg_meta_store.h"

#include "common/clock.h"

namespace zhsm {

void PgMetaStore::prepare(pqxx::connection& conn) {
  prepare_inode_statements(conn);
  prepare_layout_statements(conn);
  prepare_namespace_statements(conn);
  prepare_rename_statements(conn);
  prepare_setattr_statements(conn);
  prepare_open_statements(conn);
  prepare_server_statements(conn);
  prepare_chain_statements(conn);
  prepare_session_statements(conn);
}

PgMetaStore::PgMetaStore(ConnectionPool& pool, Settings settings, StoreOptions options)
    : runner_(pool), settings_(std::move(settings)), options_(std::move(options)) {}

PgMetaStore::PgMetaStore(std::unique_ptr<ConnectionPool> pool, Settings settings,
                         StoreOptions options)
    : owned_pool_(std::move(pool)),
      runner_(*owned_pool_),
      settings_(std::move(settings)),
      options_(std::move(options)) {}

int64_t PgMetaStore::now_ns() const {
  return options_.clock_ns ? options_.clock_ns() : zhsm::now_ns();
}

}  // namespace zhsm
