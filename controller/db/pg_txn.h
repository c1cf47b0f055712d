// Runs one unit of database work as one transaction with zhsm's error policy:
// serialization failures and deadlocks are retried with capped backoff (then
// `overloaded`); a unique violation is `exists`; a broken connection is replaced and the
// work tried again once (then `disconnected`); a commit whose outcome is unknown is
// `disconnected`; any other database error is `internal`. zhsm::Error thrown by the work
// rolls back and passes through unchanged. Every conversion is logged once, here.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "common/error.h"
#include "controller/db/connection_pool.h"

namespace zhsm {

// Whether an error's SQLSTATE says the session is gone (classes 08, connection exception,
// and 57P, operator intervention: shutdown, crash).
bool connection_lost(const std::string& sqlstate);

// Error(disconnected) for a change sent as one statement whose connection was lost: the
// statement may have committed. Running it again could answer as if it had not (a create
// finding its own file, an unlink finding no entry), so the caller is told that the outcome
// is unknown, as a transaction whose COMMIT was lost would tell it.
Error outcome_unknown(std::string_view op);

// Runs prepared statement `stmt`, a change that is its own transaction (no BEGIN and
// COMMIT), and turns a lost connection into outcome_unknown(op) instead of letting
// TxnRunner run it again.
template <class... Args>
pqxx::result exec_change_once(pqxx::nontransaction& tx, std::string_view op,
                              const std::string& stmt, Args&&... args) {
  try {
    return tx.exec_prepared(stmt, std::forward<Args>(args)...);
  } catch (const pqxx::broken_connection&) {
    throw outcome_unknown(op);
  } catch (const pqxx::sql_error& e) {
    if (connection_lost(e.sqlstate())) throw outcome_unknown(op);
    throw;
  }
}

class TxnRunner {
 public:
  explicit TxnRunner(ConnectionPool& pool) : pool_(pool) {}
  ConnectionPool& pool() { return pool_; }

  // Runs fn(Tx&) and commits; returns what fn returns. `op` names the work in log lines
  // and error messages. fn may run more than once (retries): it must not have effects
  // outside the transaction. Tx is pqxx::work (BEGIN ... COMMIT), or
  // pqxx::nontransaction for work of a single statement that only reads: that
  // statement is its own transaction, and BEGIN and COMMIT, a round trip each, are left
  // out. Thread-safe.
  template <class Tx = pqxx::work, class F>
  auto run(std::string_view op, F&& fn) -> std::invoke_result_t<F, Tx&> {
    using R = std::invoke_result_t<F, Tx&>;
    for (int attempt = 0;; ++attempt) {
      auto lease = pool_.acquire();
      try {
        Tx tx(lease.conn());
        if constexpr (std::is_void_v<R>) {
          fn(tx);
          tx.commit();
          return;
        } else {
          R result = fn(tx);
          tx.commit();
          return result;
        }
      } catch (...) {
        on_failure(op, attempt, lease);  // rethrows unless the work should run again
      }
    }
  }

 private:
  // Classifies the exception in flight; returns to retry, throws zhsm::Error otherwise.
  void on_failure(std::string_view op, int attempt, ConnectionPool::Lease& lease);

  ConnectionPool& pool_;
};

}  // namespace zhsm
