// A fixed set of PostgreSQL connections, one per database worker thread. A worker leases
// one for the duration of a transaction; a lease whose connection broke replaces it with a
// fresh one (statements prepared again). Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace zhsm {

class ConnectionPool {
 public:
  // Runs on every new connection (prepared statements, session settings).
  using Setup = std::function<void(pqxx::connection&)>;

  // Opens `size` connections now. Throws Error(disconnected) with the reason if the
  // database cannot be reached.
  ConnectionPool(std::string conninfo, size_t size, Setup setup);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& conn();
    // Replaces the connection with a new one. Throws Error(disconnected) on failure (the
    // slot then reconnects on its next lease).
    void reconnect();

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, size_t slot) : pool_(pool), slot_(slot) {}
    ConnectionPool* pool_;
    size_t slot_;
  };

  // Waits until a connection is free. Reconnects a slot left broken earlier, or whose
  // session the server ended while it was idle.
  Lease acquire();

  size_t size() const { return slots_.size(); }

  // Runs (on the leasing thread) after a connection was replaced: its session broke or
  // the server ended it, perhaps in a restart that lost the changes committed without a
  // flush (doc/durability.md). Whoever keeps copies of the database's state drops them.
  // Set before the pool is used.
  using Replaced = std::function<void()>;
  void on_replaced(Replaced fn) { replaced_ = std::move(fn); }

 private:
  std::unique_ptr<pqxx::connection> open_connection();
  void give_back(size_t slot);

  const std::string conninfo_;
  const Setup setup_;
  Replaced replaced_;
  std::mutex mu_;                 // guards free_ and the slot pointers while leased out
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> slots_;  // a slot is owned by its lease
  std::vector<size_t> free_;
};

}  // namespace zhsm
