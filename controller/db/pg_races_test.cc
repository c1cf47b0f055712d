// controller-db tests of races that PostgreSQL's row locks decide: a statement of the
// store meets a transaction another session holds open. Races between callers of the
// store itself are tested for every store in controller/conformance/threads_test.cc.
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include <chrono>
#include <future>
#include <thread>

#include "controller/db/pg_test_fixture.h"

namespace zhsm {
namespace {

using RacesTest = PgStoreTest;

// Polls (at most 10 s) until some session of the test database waits for a row lock.
bool some_session_waits_for_a_lock() {
  pqxx::connection conn(test_conninfo());
  pqxx::nontransaction tx(conn);
  for (int i = 0; i < 1000; ++i) {
    if (tx.exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")[0][0]
            .as<long>() > 0)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// A read-only open (one statement, no transaction) of a file whose reclaim is in
// progress waits for the reclaim and then finds no inode, instead of leaving a token
// that names a deleted inode (the schema has no foreign key to refuse one). The reclaim
// is the store's own unlink function (migration 006), held open in a transaction.
TEST_F(RacesTest, ReadOnlyOpenDuringAReclaimFindsNoInode) {
  const uint64_t ino = mknod(1, "f").ino;
  pqxx::connection other(test_conninfo());
  pqxx::work reclaim(other);
  auto r = reclaim.exec("SELECT status FROM zhsm_remove(1, 'f'::bytea, false, 1)");
  ASSERT_EQ(r[0][0].as<int>(), 0);
  ASSERT_EQ(count_rows("SELECT count(*) FROM inodes WHERE nlink = 1 AND type = 0"), 1)
      << "the unlink is not committed yet";

  auto opened = std::async(std::launch::async, [&] {
    return code_of([&] { store().open(OpenArgs{ino, proto::AccessMode::READ, false, 7}); });
  });
  EXPECT_TRUE(some_session_waits_for_a_lock()) << "the open did not wait for the reclaim";
  reclaim.commit();
  EXPECT_EQ(opened.get(), Errc::not_found);
  EXPECT_EQ(count_rows("SELECT count(*) FROM tokens"), 0);
}

// The other order: an unlink (one statement calling zhsm_remove) that meets a read-only
// open still inserting its token waits for it, then sees the token and keeps the file
// for it (link count 0, the inode and its token stay). The open's transaction is written
// out here as open_read does it: the inode FOR KEY SHARE, then the token.
TEST_F(RacesTest, UnlinkDuringAReadOnlyOpenKeepsTheFileForIt) {
  const uint64_t ino = mknod(1, "f").ino;
  pqxx::connection other(test_conninfo());
  pqxx::work open(other);
  open.exec_params("SELECT 1 FROM inodes WHERE ino = $1 FOR KEY SHARE", static_cast<int64_t>(ino));
  open.exec_params("INSERT INTO tokens (ino, client_id, mode, expires_at_ms) "
                   "VALUES ($1, 7, 0, 9000000000000)",
                   static_cast<int64_t>(ino));
  auto removed = std::async(std::launch::async, [&] {
    return code_of([&] { store().unlink(1, "f"); });
  });
  EXPECT_TRUE(some_session_waits_for_a_lock()) << "the unlink did not wait for the open";
  open.commit();
  EXPECT_EQ(removed.get(), Errc::ok);
  EXPECT_EQ(count_rows("SELECT count(*) FROM inodes WHERE ino = " + std::to_string(ino) +
                       " AND nlink = 0"),
            1)
      << "the unlink reclaimed a file a token keeps";
  EXPECT_EQ(count_rows("SELECT count(*) FROM tokens"), 1);
  EXPECT_EQ(count_rows("SELECT count(*) FROM dentries WHERE parent = 1"), 0);
}

// The same open while another transaction only changes the inode's attributes (a
// commit, a chmod) does not wait for it, and sees the inode.
TEST_F(RacesTest, ReadOnlyOpenDoesNotWaitForAnAttributeChange) {
  const uint64_t ino = mknod(1, "f").ino;
  pqxx::connection other(test_conninfo());
  pqxx::work change(other);
  change.exec_params("UPDATE inodes SET mode = 384 WHERE ino = $1", static_cast<int64_t>(ino));
  auto opened = std::async(std::launch::async, [&] {
    return store().open(OpenArgs{ino, proto::AccessMode::READ, false, 7}).attr.ino;
  });
  const bool answered = opened.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  change.commit();  // lets a waiting open go on either way
  EXPECT_TRUE(answered) << "the open waited for the attribute change";
  EXPECT_EQ(opened.get(), ino);
  EXPECT_EQ(count_rows("SELECT count(*) FROM tokens"), 1);
}

}  // namespace
}  // namespace zhsm
