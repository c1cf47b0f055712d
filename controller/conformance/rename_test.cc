// Conformance tests of rename (every MetaStore must pass them, see store_fixture.h):
// moves within and across directories, replacement rules, noReplace, exchange, subtree
// checks and link count fix-ups.
#include "controller/conformance/store_fixture.h"

namespace zhsm {
namespace {

RenameArgs mv(uint64_t p, std::string n, uint64_t np, std::string nn, bool no_replace = false,
              bool exchange = false) {
  return RenameArgs{p, std::move(n), np, std::move(nn), no_replace, exchange};
}

TEST_P(RenameTest, WithinADirectoryKeepsTheCookie) {
  auto f = mknod(1, "a");
  auto before = store().readdir(1, 0, 10).entries.at(0).cookie;
  advance_ms(2);
  store().rename(mv(1, "a", 1, "b"));
  EXPECT_EQ(code_of([&] { store().lookup(1, "a"); }), Errc::not_found);
  auto b = store().lookup(1, "b");
  EXPECT_EQ(b.ino, f.ino);
  EXPECT_GT(b.ctime_ns, f.ctime_ns);
  EXPECT_EQ(store().readdir(1, 0, 10).entries.at(0).cookie, before);
}

TEST_P(RenameTest, DirectoryAcrossParentsFixesLinksAndDotDot) {
  auto a = mkdir(1, "a");
  auto b = mkdir(1, "b");
  auto c = mkdir(a.ino, "c");
  EXPECT_EQ(store().getattr(a.ino).nlink, 3u);
  store().rename(mv(a.ino, "c", b.ino, "c2"));
  EXPECT_EQ(store().getattr(a.ino).nlink, 2u);
  EXPECT_EQ(store().getattr(b.ino).nlink, 3u);
  EXPECT_EQ(store().getattr(1).nlink, 4u);
  EXPECT_EQ(store().readdir(c.ino, 0, 10).parent_ino, b.ino);
  EXPECT_EQ(store().lookup(b.ino, "c2").ino, c.ino);
}

TEST_P(RenameTest, SameInodeIsANoOp) {
  auto f = mknod(1, "f");
  store().link(f.ino, 1, "g");
  store().rename(mv(1, "f", 1, "g"));
  EXPECT_EQ(store().lookup(1, "f").ino, f.ino);
  EXPECT_EQ(store().lookup(1, "g").ino, f.ino);
  EXPECT_EQ(store().getattr(f.ino).nlink, 2u);
}

TEST_P(RenameTest, ReplacementRules) {
  auto d = mkdir(1, "d");
  auto e = mkdir(1, "e");
  auto full = mkdir(1, "full");
  mknod(full.ino, "x");
  auto f = mknod(1, "f");
  auto g = mknod(1, "g");
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "d", 1, "f")); }), Errc::not_dir);
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "f", 1, "d")); }), Errc::is_dir);
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "d", 1, "full")); }), Errc::not_empty);
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "f", 1, "g", true)); }), Errc::exists);
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "nope", 1, "g")); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "f", 1, "")); }), Errc::invalid);
  // A file over a file: the replaced one goes.
  store().rename(mv(1, "f", 1, "g"));
  EXPECT_EQ(store().lookup(1, "g").ino, f.ino);
  EXPECT_EQ(code_of([&] { store().getattr(g.ino); }), Errc::not_found);
  // A directory over an empty directory.
  EXPECT_EQ(store().getattr(1).nlink, 5u);
  store().rename(mv(1, "d", 1, "e"));
  EXPECT_EQ(store().lookup(1, "e").ino, d.ino);
  EXPECT_EQ(code_of([&] { store().getattr(e.ino); }), Errc::not_found);
  EXPECT_EQ(store().getattr(1).nlink, 4u);
}

TEST_P(RenameTest, DirectoryOverEmptyDirectoryElsewhere) {
  auto a = mkdir(1, "a");
  auto b = mkdir(1, "b");
  auto sub = mkdir(a.ino, "sub");
  auto target = mkdir(b.ino, "t");
  store().rename(mv(a.ino, "sub", b.ino, "t"));
  EXPECT_EQ(store().getattr(a.ino).nlink, 2u);
  EXPECT_EQ(store().getattr(b.ino).nlink, 3u);
  EXPECT_EQ(store().lookup(b.ino, "t").ino, sub.ino);
  EXPECT_EQ(code_of([&] { store().getattr(target.ino); }), Errc::not_found);
}

TEST_P(RenameTest, NoMoveIntoOwnSubtree) {
  auto a = mkdir(1, "a");
  auto b = mkdir(a.ino, "b");
  auto c = mkdir(b.ino, "c");
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "a", c.ino, "a")); }), Errc::invalid);
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "a", a.ino, "x")); }), Errc::invalid);
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "a", c.ino, "x", false, false)); }),
            Errc::invalid);
  // Moving a deeper directory up is fine.
  store().rename(mv(b.ino, "c", 1, "c"));
  EXPECT_EQ(store().getattr(1).nlink, 4u);
}

TEST_P(RenameTest, ExchangeSwapsEntries) {
  auto a = mkdir(1, "a");
  auto f = mknod(1, "f");
  auto sub = mkdir(a.ino, "sub");
  // Exchange /f (file) with /a/sub (directory): links and ".." follow the directory.
  store().rename(mv(1, "f", a.ino, "sub", false, true));
  EXPECT_EQ(store().lookup(1, "f").ino, sub.ino);
  EXPECT_EQ(store().lookup(a.ino, "sub").ino, f.ino);
  EXPECT_EQ(store().getattr(a.ino).nlink, 2u);
  EXPECT_EQ(store().getattr(1).nlink, 4u);
  EXPECT_EQ(store().readdir(sub.ino, 0, 1).parent_ino, 1u);
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "f", 1, "missing", false, true)); }),
            Errc::not_found);
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "f", 1, "a", true, true)); }), Errc::invalid);
  // Exchanging a directory with its own descendant would build a cycle.
  auto inner = mkdir(sub.ino, "inner");
  (void)inner;
  EXPECT_EQ(code_of([&] { store().rename(mv(1, "f", sub.ino, "inner", false, true)); }),
            Errc::invalid);
}

}  // namespace
}  // namespace zhsm
