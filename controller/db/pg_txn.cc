// Failure classification and retry policy of TxnRunner (see pg_txn.h).
#include "controller/db/pg_txn.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <pqxx/except>
#include <spdlog/spdlog.h>

#include "common/error.h"

namespace zhsm {
namespace {

constexpr int kMaxConflictAttempts = 10;
constexpr int kMaxReconnects = 1;

void backoff(int attempt) {
  // 5 ms, 10 ms, 20 ms ... capped at 500 ms, with jitter so that retries spread out.
  int base = std::min(500, 5 << std::min(attempt, 7));
  thread_local std::minstd_rand rng{std::random_device{}()};
  int jitter = std::uniform_int_distribution<int>(0, base / 2)(rng);
  std::this_thread::sleep_for(std::chrono::milliseconds(base + jitter));
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

bool connection_lost(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0;
}

Error outcome_unknown(std::string_view op) {
  return Error(Errc::disconnected,
               fmt::format("database connection lost during {}; the outcome is unknown", op));
}

void TxnRunner::on_failure(std::string_view op, int attempt, ConnectionPool::Lease& lease) {
  auto reconnect_or_throw = [&](const std::string& reason) {
    if (attempt >= kMaxReconnects) {
      spdlog::error("event=db_disconnected op={} reason=\"{}\"", op, reason);
      throw Error(Errc::disconnected, "database connection lost during " + std::string(op) +
                                          ": " + reason);
    }
    spdlog::warn("event=db_reconnect op={} reason=\"{}\"", op, reason);
    try {
      lease.reconnect();
    } catch (const Error& e) {
      spdlog::error("event=db_disconnected op={} reason=\"{}\"", op, e.what());
      throw;
    }
  };
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    spdlog::error("event=db_in_doubt op={} reason=\"{}\"", op, one_line(e.what()));
    throw Error(Errc::disconnected, "database connection lost while committing " +
                                        std::string(op) + "; the outcome is unknown");
  } catch (const pqxx::transaction_rollback& e) {
    // serialization_failure, deadlock_detected, statement_completion_unknown.
    if (attempt + 1 >= kMaxConflictAttempts) {
      spdlog::warn("event=db_conflict_gave_up op={} attempts={} reason=\"{}\"", op, attempt + 1,
                   one_line(e.what()));
      throw Error(Errc::overloaded, "database conflicts persisted during " + std::string(op) +
                                        ": " + one_line(e.what()));
    }
    spdlog::debug("event=db_conflict_retry op={} attempt={} reason=\"{}\"", op, attempt + 1,
                  one_line(e.what()));
    backoff(attempt);
  } catch (const pqxx::unique_violation& e) {
    spdlog::debug("event=db_unique_violation op={} reason=\"{}\"", op, one_line(e.what()));
    throw Error(Errc::exists, std::string(op) + ": already exists (" + one_line(e.what()) + ")");
  } catch (const pqxx::foreign_key_violation& e) {
    spdlog::warn("event=db_reference_violation op={} reason=\"{}\"", op, one_line(e.what()));
    throw Error(Errc::invalid,
                std::string(op) + ": refers to something unknown (" + one_line(e.what()) + ")");
  } catch (const pqxx::broken_connection& e) {
    reconnect_or_throw(one_line(e.what()));
  } catch (const pqxx::sql_error& e) {
    if (connection_lost(e.sqlstate())) {
      reconnect_or_throw(one_line(e.what()));
      return;
    }
    spdlog::error("event=db_error op={} sqlstate={} reason=\"{}\"", op, e.sqlstate(),
                  one_line(e.what()));
    throw Error(Errc::internal, "database error during " + std::string(op) + ": " +
                                    one_line(e.what()));
  } catch (const pqxx::failure& e) {
    // Other libpqxx failures without SQLSTATE: treat as a lost session.
    reconnect_or_throw(one_line(e.what()));
  } catch (const pqxx::usage_error& e) {
    spdlog::error("event=db_usage_error op={} reason=\"{}\"", op, one_line(e.what()));
    throw Error(Errc::internal, "database usage error in " + std::string(op) + ": " + e.what());
  } catch (const pqxx::conversion_error& e) {
    spdlog::error("event=db_conversion_error op={} reason=\"{}\"", op, one_line(e.what()));
    throw Error(Errc::internal, "database value out of range in " + std::string(op) + ": " +
                                    e.what());
  }
}

}  // namespace zhsm
