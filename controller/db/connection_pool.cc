// Leasing, opening and replacing PostgreSQL connections (see connection_pool.h).
#include "controller/db/connection_pool.h"

#include <spdlog/spdlog.h>

#include <poll.h>

#include <pqxx/except>

#include "common/error.h"

namespace zhsm {
namespace {

// Whether an idle connection's socket has something to read or is closed. An idle session
// is sent nothing, so this means the server ended it (a terminated backend sends its
// FATAL message and closes). Checking before use lets a change sent as one statement go
// to a live session, instead of failing with an outcome that is unknown (pg_txn.h).
bool ended_while_idle(pqxx::connection& conn) {
  const int fd = conn.sock();
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

}  // namespace

ConnectionPool::ConnectionPool(std::string conninfo, size_t size, Setup setup)
    : conninfo_(std::move(conninfo)), setup_(std::move(setup)) {
  if (size == 0) throw Error(Errc::invalid, "database pool needs at least one connection");
  for (size_t i = 0; i < size; ++i) {
    slots_.push_back(open_connection());
    free_.push_back(i);
  }
}

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<pqxx::connection> ConnectionPool::open_connection() {
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
    if (setup_) setup_(*conn);
    return conn;
  } catch (const pqxx::broken_connection& e) {
    throw Error(Errc::disconnected, std::string("cannot connect to PostgreSQL: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    throw Error(Errc::disconnected,
                std::string("cannot set up PostgreSQL connection: ") + e.what());
  }
}

ConnectionPool::Lease ConnectionPool::acquire() {
  size_t slot;
  {
    std::unique_lock lock(mu_);
    freed_.wait(lock, [this] { return !free_.empty(); });
    slot = free_.back();
    free_.pop_back();
  }
  Lease lease(this, slot);
  if (!slots_[slot] || ended_while_idle(*slots_[slot])) lease.reconnect();
  return lease;
}

void ConnectionPool::give_back(size_t slot) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(slot);
  }
  freed_.notify_one();
}

ConnectionPool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), slot_(other.slot_) {
  other.pool_ = nullptr;
}

ConnectionPool::Lease::~Lease() {
  if (pool_) pool_->give_back(slot_);
}

pqxx::connection& ConnectionPool::Lease::conn() { return *pool_->slots_[slot_]; }

void ConnectionPool::Lease::reconnect() {
  pool_->slots_[slot_].reset();
  pool_->slots_[slot_] = pool_->open_connection();
  spdlog::info("event=db_connection_replaced slot={}", slot_);
  if (pool_->replaced_) pool_->replaced_();
}

}  // namespace zhsm
