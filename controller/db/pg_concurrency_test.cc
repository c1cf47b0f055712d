// controller-db tests of the store under concurrency and faults: many writers in one
// directory, criss-cross renames (lock order and deadlock retries), and database
// sessions killed under the store (reconnect).
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include <atomic>
#include <thread>

#include "controller/db/pg_test_fixture.h"

namespace zhsm {
namespace {

using ConcurrencyTest = PgStoreTest;

TEST_F(ConcurrencyTest, ParallelCreatesInOneDirectory) {
  auto d = mkdir(1, "d");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        try {
          mkdir(d.ino, "t" + std::to_string(t) + "-" + std::to_string(i));
        } catch (const Error&) {
          ++failures;
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store().getattr(d.ino).nlink, 102u);
  EXPECT_EQ(store().readdir(d.ino, 0, 1000).entries.size(), 100u);
}

TEST_F(ConcurrencyTest, CrissCrossRenamesKeepLinkCountsRight) {
  auto a = mkdir(1, "a");
  auto b = mkdir(1, "b");
  for (int i = 0; i < 20; ++i) {
    mkdir(a.ino, "x" + std::to_string(i));
    mkdir(b.ino, "y" + std::to_string(i));
  }
  std::atomic<int> failures{0};
  auto mover = [&](uint64_t from, uint64_t to, const std::string& prefix) {
    for (int i = 0; i < 20; ++i) {
      try {
        store().rename(RenameArgs{from, prefix + std::to_string(i), to, prefix + std::to_string(i),
                                  false, false});
      } catch (const Error&) {
        ++failures;
      }
    }
  };
  std::thread t1(mover, a.ino, b.ino, "x");
  std::thread t2(mover, b.ino, a.ino, "y");
  t1.join();
  t2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store().getattr(a.ino).nlink, 22u);
  EXPECT_EQ(store().getattr(b.ino).nlink, 22u);
  EXPECT_EQ(store().lookup(b.ino, "x7").type, proto::FileType::DIRECTORY);
  EXPECT_EQ(store().lookup(a.ino, "y7").type, proto::FileType::DIRECTORY);
  EXPECT_EQ(code_of([&] { store().lookup(a.ino, "x7"); }), Errc::not_found);
}

TEST_F(ConcurrencyTest, KilledSessionsAreReplaced) {
  mkdir(1, "before");
  {
    pqxx::connection admin(test_conninfo());
    pqxx::nontransaction tx(admin);
    tx.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }
  // Each pooled connection is broken now; every call reconnects and succeeds.
  for (int i = 0; i < 4; ++i) mkdir(1, "after" + std::to_string(i));
  EXPECT_EQ(store().getattr(1).nlink, 7u);
}

}  // namespace
}  // namespace zhsm
