// Schema migration and settings set-up at controller start (see pg_bootstrap.h).
#include "controller/db/pg_bootstrap.h"

#include <fmt/format.h>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "controller/db/pg_rows.h"

namespace zhsm {
namespace {

// Session advisory lock held while migrating, so two controllers never migrate at once.
constexpr int64_t kMigrationLockKey = 0x7a68736d0000;  // "zhsm" 0000

int current_version(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  auto exists = tx.exec("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return 0;
  return tx.exec("SELECT coalesce(max(version), 0) FROM schema_version")[0][0].as<int>();
}

class AdvisoryLock {
 public:
  AdvisoryLock(pqxx::connection& conn, int64_t key) : conn_(conn), key_(key) {
    pqxx::nontransaction tx(conn_);
    tx.exec_params("SELECT pg_advisory_lock($1)", key_);
  }
  ~AdvisoryLock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params("SELECT pg_advisory_unlock($1)", key_);
    } catch (const std::exception& e) {
      // The session ends with the connection anyway, and with it the lock.
      spdlog::warn("event=migration_unlock_failed reason=\"{}\"", e.what());
    }
  }

 private:
  pqxx::connection& conn_;
  int64_t key_;
};

}  // namespace

MigrationReport apply_migrations(pqxx::connection& conn, std::span<const Migration> migrations) {
  const int known = migrations.empty() ? 0 : migrations.back().version;
  MigrationReport report;
  try {
    AdvisoryLock lock(conn, kMigrationLockKey);
    report.from_version = current_version(conn);
    report.to_version = report.from_version;
    if (report.from_version > known)
      throw Error(Errc::invalid,
                  fmt::format("database schema version {} is newer than this controller (knows up "
                              "to {}); upgrade zhsm-controller",
                              report.from_version, known));
    for (const auto& m : migrations) {
      if (m.version <= report.from_version) continue;
      pqxx::work tx(conn);
      tx.exec(std::string(m.sql));
      tx.exec_params("INSERT INTO schema_version (version, name) VALUES ($1, $2)", m.version,
                     std::string(m.name));
      tx.commit();
      report.to_version = m.version;
      spdlog::info("event=migration_applied version={} name={}", m.version, m.name);
    }
  } catch (const pqxx::broken_connection& e) {
    throw Error(Errc::disconnected, std::string("database connection lost while migrating: ") +
                                        e.what());
  } catch (const pqxx::sql_error& e) {
    throw Error(Errc::internal, fmt::format("schema migration failed (from version {}): {}",
                                            report.from_version, e.what()));
  }
  return report;
}

Settings establish_settings(pqxx::connection& conn, uint64_t chunk_size, uint64_t inline_max) {
  try {
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO settings (id, cluster_id, chunk_size, inline_max) VALUES (1, $1, $2, $3) "
        "ON CONFLICT (id) DO NOTHING",
        Uuid::random().str(), static_cast<int64_t>(chunk_size), static_cast<int64_t>(inline_max));
    auto r = tx.exec("SELECT cluster_id, chunk_size, inline_max FROM settings WHERE id = 1 FOR UPDATE");
    Settings s;
    s.cluster_id = uuid_of(r[0][0]);
    s.chunk_size = r[0][1].as<uint64_t>();
    s.inline_max = r[0][2].as<uint64_t>();
    if (s.chunk_size != chunk_size)
      spdlog::warn("event=setting_ignored setting=chunk_size requested={} kept={} "
                   "reason=\"fixed once the cluster exists\"",
                   chunk_size, s.chunk_size);
    if (inline_max > s.inline_max) {
      tx.exec_params("UPDATE settings SET inline_max = $1 WHERE id = 1",
                     static_cast<int64_t>(inline_max));
      spdlog::info("event=setting_changed setting=inline_max old={} new={}", s.inline_max,
                   inline_max);
      s.inline_max = inline_max;
    } else if (inline_max < s.inline_max) {
      spdlog::warn("event=setting_ignored setting=inline_max requested={} kept={} "
                   "reason=\"inline_max may only grow\"",
                   inline_max, s.inline_max);
    }
    tx.commit();
    return s;
  } catch (const pqxx::broken_connection& e) {
    throw Error(Errc::disconnected, std::string("database connection lost: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    throw Error(Errc::internal, std::string("cannot read cluster settings: ") + e.what());
  }
}

}  // namespace zhsm
