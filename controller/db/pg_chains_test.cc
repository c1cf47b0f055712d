// The PostgreSQL store's PlacementStore (pg_chains.cc): chains and their rules, directory
// marks and the chain a file inherits with its path, and the copy rows: a wanted copy, a
// reported copy that becomes current only at the object's version and checksum, and a drop
// that never removes the last current copy.
#include <gtest/gtest.h>

#include "common/error.h"
#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_test_fixture.h"

namespace zhsm {
namespace {

class PgChainsTest : public PgStoreTest {
 protected:
  PlacementStore& placement() { return dynamic_cast<PlacementStore&>(store()); }

  const ChainRow* find(const std::vector<ChainRow>& rows, const std::string& name) {
    for (const auto& r : rows)
      if (r.name == name) return &r;
    return nullptr;
  }

  const CopyInfo* copy_on(const ChunkInfo& c, const Uuid& backend) {
    for (const auto& copy : c.copies)
      if (copy.backend == backend) return &copy;
    return nullptr;
  }
};

TEST_F(PgChainsTest, DefaultChainPlacesOneCopyAnywhere) {
  auto rows = placement().chains();
  const ChainRow* d = find(rows, "default");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->copies, 1u);
  EXPECT_EQ(d->rules, std::vector<std::string>{"use any"});
}

TEST_F(PgChainsTest, ChainsAreCreatedEditedAndDeleted) {
  placement().create_chain("cold", 2, 3, 1);
  EXPECT_EQ(code_of([&] { placement().create_chain("cold", 1, 1, 1); }), Errc::exists);
  placement().set_chain_rules("cold", {}, {"size > 1G use tier:hdd", "use any"});
  const ChainRow* c = find(placement().chains(), "cold");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->copies, 2u);
  EXPECT_EQ(c->stripe, 3u);
  EXPECT_EQ(c->rules, (std::vector<std::string>{"size > 1G use tier:hdd", "use any"}));
  // An edit made from rules that are no longer the chain's is refused and changes nothing
  // (another edit came first).
  EXPECT_EQ(code_of([&] { placement().set_chain_rules("cold", {"use any"}, {}); }), Errc::stale);
  EXPECT_EQ(find(placement().chains(), "cold")->rules,
            (std::vector<std::string>{"size > 1G use tier:hdd", "use any"}));
  placement().set_chain_rules("cold", {"size > 1G use tier:hdd", "use any"}, {"use any"});
  EXPECT_EQ(find(placement().chains(), "cold")->rules, std::vector<std::string>{"use any"});
  EXPECT_EQ(code_of([&] { placement().set_chain_rules("nosuch", {}, {}); }), Errc::not_found);

  InodeAttr dir = mkdir(1, "archive");
  placement().set_dir_chain(dir.ino, "cold");
  EXPECT_EQ(find(placement().chains(), "cold")->dirs, std::vector<uint64_t>{dir.ino});
  EXPECT_EQ(code_of([&] { placement().delete_chain("cold"); }), Errc::busy)
      << "a chain named by a directory stays";
  placement().set_dir_chain(dir.ino, "");
  placement().delete_chain("cold");
  EXPECT_EQ(find(placement().chains(), "cold"), nullptr);
  EXPECT_EQ(code_of([&] { placement().delete_chain("cold"); }), Errc::not_found);
}

TEST_F(PgChainsTest, ChainNumbersAreSetOneByOne) {
  placement().create_chain("gold", 2, 1, 2);
  EXPECT_EQ(find(placement().chains(), "gold")->ack, 2u);
  EXPECT_EQ(find(placement().chains(), "default")->ack, 1u) << "a close waits for one copy";
  placement().set_chain_numbers("gold", 3, std::nullopt, std::nullopt);
  const ChainRow* g = find(placement().chains(), "gold");
  EXPECT_EQ(g->copies, 3u);
  EXPECT_EQ(g->stripe, 1u) << "left as it was";
  EXPECT_EQ(g->ack, 2u) << "left as it was";
  placement().set_chain_numbers("gold", std::nullopt, 4, 1);
  g = find(placement().chains(), "gold");
  EXPECT_EQ(g->stripe, 4u);
  EXPECT_EQ(g->ack, 1u);
  EXPECT_EQ(code_of([&] { placement().set_chain_numbers("nosuch", 1, 1, 1); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { placement().set_chain_numbers("gold", 17, std::nullopt, std::nullopt); }),
            Errc::internal)
      << "the database refuses more than 16 copies";
  placement().delete_chain("gold");
}

TEST_F(PgChainsTest, AccessesAreCountedPerHourOverTheWindow) {
  Uuid backend = register_backend();
  OpenResult f = create(1, "hot");
  commit_chunk(f, 0, Uuid::random(), 1, 100, 100, backend);
  const uint64_t gone = 987654321;  // no such inode (deleted before its opens were stored)
  placement().add_accesses({{f.attr.ino, 3}, {gone, 5}}, 1000, 0);
  placement().add_accesses({{f.attr.ino, 2}}, 1000, 0);
  placement().add_accesses({{f.attr.ino, 7}}, 1005, 0);
  EXPECT_EQ(placement().placement_file(f.attr.ino, 0)->accesses, 12u);
  EXPECT_EQ(placement().placement_file(f.attr.ino, 1001)->accesses, 7u) << "only the window";
  EXPECT_EQ(placement().placement_files(0, 10, 1006)[0].accesses, 0u);
  EXPECT_EQ(count_rows("SELECT count(*) FROM file_accesses WHERE ino = " + std::to_string(gone)),
            0)
      << "a file deleted before its opens were stored is skipped";
  placement().add_accesses({}, 1006, 1003);  // forgets hours before 1003
  EXPECT_EQ(count_rows("SELECT count(*) FROM file_accesses"), 1);
}

TEST_F(PgChainsTest, DirectoryMarksNeedDirectoriesAndChains) {
  InodeAttr dir = mkdir(1, "d");
  InodeAttr file = mknod(dir.ino, "f");
  EXPECT_EQ(code_of([&] { placement().set_dir_chain(file.ino, "default"); }), Errc::not_dir);
  EXPECT_EQ(code_of([&] { placement().set_dir_chain(dir.ino, "nosuch"); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { placement().set_dir_chain(999999, "default"); }), Errc::not_found);
  // Removing the directory removes its mark.
  placement().create_chain("x", 1, 1, 1);
  InodeAttr gone = mkdir(1, "gone");
  placement().set_dir_chain(gone.ino, "x");
  store().rmdir(1, "gone");
  EXPECT_TRUE(find(placement().chains(), "x")->dirs.empty());
  placement().delete_chain("x");
}

TEST_F(PgChainsTest, FilesInheritTheNearestDirectorysChainWithTheirPath) {
  Uuid backend = register_backend();
  placement().create_chain("outer", 1, 1, 1);
  placement().create_chain("inner", 1, 1, 1);
  InodeAttr a = mkdir(1, "a");
  InodeAttr b = mkdir(a.ino, "b");
  placement().set_dir_chain(a.ino, "outer");
  OpenResult in_b = create(b.ino, "deep");
  commit_chunk(in_b, 0, Uuid::random(), 1, 100, 100, backend);
  OpenResult in_root = create(1, "top");
  commit_chunk(in_root, 0, Uuid::random(), 1, 100, 100, backend);

  auto f = placement().placement_file(in_b.attr.ino, 0);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->path, "/a/b/deep");
  EXPECT_EQ(f->chain, "outer");
  EXPECT_EQ(f->chain_dir, a.ino);
  ASSERT_EQ(f->chunks.size(), 1u);

  placement().set_dir_chain(b.ino, "inner");
  f = placement().placement_file(in_b.attr.ino, 0);
  EXPECT_EQ(f->chain, "inner") << "the nearest directory wins";
  EXPECT_EQ(f->chain_dir, b.ino);

  auto top = placement().placement_file(in_root.attr.ino, 0);
  ASSERT_TRUE(top);
  EXPECT_EQ(top->path, "/top");
  EXPECT_EQ(top->chain, "") << "no mark: the default chain";
  EXPECT_EQ(placement().path_of(b.ino), "/a/b");
  EXPECT_EQ(placement().path_of(1), "/");
  EXPECT_FALSE(placement().placement_file(a.ino, 0)) << "a directory has no data to place";

  // Chunked files in inode order, from a cursor.
  auto all = placement().placement_files(0, 10, 0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_LT(all[0].attr.ino, all[1].attr.ino);
  auto rest = placement().placement_files(all[0].attr.ino, 10, 0);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].attr.ino, all[1].attr.ino);
}

TEST_F(PgChainsTest, CopiesBecomeCurrentOnlyAtTheObjectsVersionAndChecksum) {
  Uuid b1 = register_backend("fs1", "b1");
  Uuid b2 = register_backend("fs2", "b2");
  OpenResult f = create(1, "f");
  Uuid obj = Uuid::random();
  commit_chunk(f, 0, obj, 3, 100, 100, b1);
  const std::string sha(32, 'h');  // commit_chunk's checksum

  EXPECT_TRUE(placement().want_copy(obj, b2));
  EXPECT_TRUE(placement().want_copy(obj, b2)) << "a row exists: still wanted";
  EXPECT_EQ(count_rows("SELECT count(*) FROM chunk_copies WHERE state = 2"), 1);
  auto file = placement().placement_file(f.attr.ino, 0);
  ASSERT_NE(copy_on(file->chunks[0], b2), nullptr);
  EXPECT_EQ(copy_on(file->chunks[0], b2)->state, proto::CopyState::TARGET);

  EXPECT_FALSE(placement().copy_made(obj, b2, 2, sha)) << "an older version";
  EXPECT_FALSE(placement().copy_made(obj, b2, 3, std::string(32, 'x'))) << "another checksum";
  EXPECT_TRUE(placement().copy_made(obj, b2, 3, sha));
  file = placement().placement_file(f.attr.ino, 0);
  EXPECT_EQ(copy_on(file->chunks[0], b2)->state, proto::CopyState::CURRENT);
  EXPECT_EQ(copy_on(file->chunks[0], b2)->version, 3u);

  // A new version written on b1 outdates b2; a copy of the old version no longer counts.
  commit_chunk(f, 0, obj, 4, 100, 100, b1);
  file = placement().placement_file(f.attr.ino, 0);
  EXPECT_EQ(copy_on(file->chunks[0], b2)->state, proto::CopyState::OUTDATED);
  EXPECT_FALSE(placement().copy_made(obj, b2, 3, sha));
  EXPECT_TRUE(placement().copy_made(obj, b2, 4, sha));
}

TEST_F(PgChainsTest, DropNeverRemovesTheLastCurrentCopy) {
  Uuid b1 = register_backend("fs1", "b1");
  Uuid b2 = register_backend("fs2", "b2");
  OpenResult f = create(1, "f");
  Uuid obj = Uuid::random();
  commit_chunk(f, 0, obj, 1, 100, 100, b1);
  EXPECT_FALSE(placement().drop_copy(obj, b1)) << "the only current copy";
  placement().want_copy(obj, b2);
  EXPECT_FALSE(placement().drop_copy(obj, b1)) << "a target copy is not a current one";
  ASSERT_TRUE(placement().copy_made(obj, b2, 1, std::string(32, 'h')));
  long queued = count_rows("SELECT count(*) FROM deletions");
  EXPECT_TRUE(placement().drop_copy(obj, b1));
  EXPECT_EQ(count_rows("SELECT count(*) FROM deletions"), queued + 1) << "the object is queued for deletion";
  EXPECT_FALSE(placement().drop_copy(obj, b2)) << "now b2 holds the last current copy";
  EXPECT_FALSE(placement().drop_copy(obj, b1)) << "no row any more";
  // Wanted back on b1 before its file server deleted it: no copy until the deletion is done
  // (the server would delete the new copy with it).
  EXPECT_FALSE(placement().want_copy(obj, b1));
  EXPECT_EQ(count_rows("SELECT count(*) FROM chunk_copies WHERE state = 2"), 0);
}

TEST_F(PgChainsTest, ACorruptCopyIsOutdatedUnlessItIsTheLast) {
  Uuid b1 = register_backend("fs1", "b1");
  Uuid b2 = register_backend("fs2", "b2");
  OpenResult f = create(1, "f");
  Uuid obj = Uuid::random();
  commit_chunk(f, 0, obj, 1, 100, 100, b1);
  EXPECT_FALSE(placement().copy_corrupt(obj, b1)) << "the only current copy stays";
  placement().want_copy(obj, b2);
  ASSERT_TRUE(placement().copy_made(obj, b2, 1, std::string(32, 'h')));
  EXPECT_TRUE(placement().copy_corrupt(obj, b1));
  auto file = placement().placement_file(f.attr.ino, 0);
  EXPECT_EQ(copy_on(file->chunks[0], b1)->state, proto::CopyState::OUTDATED);
  EXPECT_EQ(copy_on(file->chunks[0], b2)->state, proto::CopyState::CURRENT);
}

TEST_F(PgChainsTest, ServerMarks) {
  register_backend("fs1", "b1");
  placement().set_server_mode("fs1", true, std::nullopt);
  auto servers = store().servers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_TRUE(servers[0].maintenance);
  EXPECT_FALSE(servers[0].draining);
  placement().set_server_mode("fs1", false, true);
  servers = store().servers();
  EXPECT_FALSE(servers[0].maintenance);
  EXPECT_TRUE(servers[0].draining);
  EXPECT_EQ(code_of([&] { placement().set_server_mode("nosuch", true, std::nullopt); }),
            Errc::not_found);
}

}  // namespace
}  // namespace zhsm
