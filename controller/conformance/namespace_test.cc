// Conformance tests of the namespace operations (every MetaStore must pass them, see
// store_fixture.h): lookup, create, link, unlink, rmdir, readdir paging, setattr and
// xattrs, with every error case.
#include "controller/conformance/store_fixture.h"

namespace zhsm {
namespace {

TEST_P(NamespaceTest, RootExists) {
  auto root = store().getattr(1);
  EXPECT_EQ(root.type, proto::FileType::DIRECTORY);
  EXPECT_EQ(root.nlink, 2u);
  EXPECT_EQ(root.mode, 0755u);
  EXPECT_EQ(code_of([&] { store().lookup(1, "missing"); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { store().getattr(999); }), Errc::not_found);
}

TEST_P(NamespaceTest, RootIsInodeOneAndNumbersContinue) {
  EXPECT_EQ(store().getattr(1).type, proto::FileType::DIRECTORY);
  EXPECT_EQ(store().readdir(1, 0, 10).parent_ino, 1u);
  EXPECT_EQ(mkdir(1, "x").ino, 2u);
  EXPECT_GE(store().readdir(1, 0, 1).entries.at(0).cookie, 3u);
}

// sync (fsync, fsyncdir) makes earlier changes durable and changes nothing itself.
TEST_P(NamespaceTest, SyncKeepsEverythingAsItWas) {
  auto d = mkdir(1, "kept");
  auto before = store().getattr(1);
  store().sync();
  EXPECT_EQ(store().lookup(1, "kept").ino, d.ino);
  EXPECT_EQ(store().getattr(1).version, before.version);
}

TEST_P(NamespaceTest, MkdirSetsOwnerLinksAndParentTimes) {
  auto before = store().getattr(1);
  advance_ms(10);
  auto d = mkdir(1, "d", 0750);
  EXPECT_EQ(d.type, proto::FileType::DIRECTORY);
  EXPECT_EQ(d.nlink, 2u);
  EXPECT_EQ(d.uid, 1000u);
  EXPECT_EQ(d.gid, 100u);
  EXPECT_EQ(d.mode, 0750u);
  auto root = store().getattr(1);
  EXPECT_EQ(root.nlink, 3u);
  EXPECT_GT(root.mtime_ns, before.mtime_ns);
  EXPECT_GT(root.ctime_ns, before.ctime_ns);
  EXPECT_GT(root.version, before.version);
  EXPECT_EQ(store().lookup(1, "d").ino, d.ino);
  EXPECT_NE(d.fsid, root.fsid);
}

// Every change that adds or removes a name reports each touched directory as it left
// it: what a getattr of the directory says right after.
TEST_P(NamespaceTest, ChangesReportTheDirectoriesTheyTouched) {
  auto expect_current = [&](const TouchedDirs& dirs, std::vector<uint64_t> inos,
                            const char* what) {
    ASSERT_EQ(dirs.size(), inos.size()) << what;
    for (size_t i = 0; i < dirs.size(); ++i) {
      auto now = store().getattr(inos[i]);
      EXPECT_EQ(dirs[i].ino, inos[i]) << what;
      EXPECT_EQ(dirs[i].nlink, now.nlink) << what;
      EXPECT_EQ(dirs[i].mtime_ns, now.mtime_ns) << what;
      EXPECT_EQ(dirs[i].ctime_ns, now.ctime_ns) << what;
      EXPECT_EQ(dirs[i].version, now.version) << what;
      EXPECT_EQ(dirs[i].mode, now.mode) << what;
      EXPECT_EQ(dirs[i].type, proto::FileType::DIRECTORY) << what;
    }
  };
  auto a = store().mkdir(NodeArgs{1, "a", proto::FileType::DIRECTORY, 0755, 0, {}, caller_});
  expect_current(a.dirs, {1}, "mkdir");
  advance_ms(1);
  CreateArgs c;
  c.parent = a.ino;
  c.name = "f";
  c.mode = 0644;
  c.caller = caller_;
  c.access = proto::AccessMode::READ_WRITE;
  auto f = store().create(c);
  expect_current(f.dirs, {a.ino}, "create");
  c.exclusive = false;
  EXPECT_TRUE(store().create(c).dirs.empty()) << "create of an existing name touches nothing";
  advance_ms(1);
  expect_current(store().mknod(NodeArgs{a.ino, "n", proto::FileType::FIFO, 0600, 0, {}, caller_})
                     .dirs, {a.ino}, "mknod");
  advance_ms(1);
  expect_current(store().symlink(NodeArgs{1, "s", proto::FileType::SYMLINK, 0777, 0, "a/f",
                                          caller_}).dirs, {1}, "symlink");
  advance_ms(1);
  expect_current(store().link(f.attr.ino, 1, "hard").dirs, {1}, "link");
  advance_ms(1);
  RenameArgs across{a.ino, "f", 1, "g"};
  expect_current(store().rename(across).dirs, {a.ino, 1}, "rename across directories");
  advance_ms(1);
  RenameArgs within{1, "g", 1, "h"};
  expect_current(store().rename(within).dirs, {1}, "rename in one directory");
  advance_ms(1);
  expect_current(store().unlink(1, "h").dirs, {1}, "unlink");
  advance_ms(1);
  mkdir(a.ino, "sub");
  advance_ms(1);
  auto gone = store().rmdir(a.ino, "sub");
  expect_current(gone.dirs, {a.ino}, "rmdir");
  EXPECT_NE(gone.ino, 0u);
}

TEST_P(NamespaceTest, NameErrors) {
  for (const char* bad : {"", ".", ".."})
    EXPECT_EQ(code_of([&] { mkdir(1, bad); }), Errc::invalid) << bad;
  EXPECT_EQ(code_of([&] { mkdir(1, "a/b"); }), Errc::invalid);
  EXPECT_EQ(code_of([&] { mkdir(1, std::string("a\0b", 3)); }), Errc::invalid);
  EXPECT_EQ(code_of([&] { mkdir(1, std::string(256, 'n')); }), Errc::name_too_long);
  EXPECT_EQ(code_of([&] { store().lookup(1, std::string(256, 'n')); }), Errc::name_too_long);
  mkdir(1, std::string(255, 'n'));
}

TEST_P(NamespaceTest, CreationUnderNonDirectoryAndOnExistingNames) {
  auto f = mknod(1, "f");
  mkdir(1, "d");
  EXPECT_EQ(code_of([&] { store().lookup(f.ino, "x"); }), Errc::not_dir);
  EXPECT_EQ(code_of([&] { mkdir(f.ino, "x"); }), Errc::not_dir);
  EXPECT_EQ(code_of([&] { mknod(f.ino, "x"); }), Errc::not_dir);
  EXPECT_EQ(code_of([&] { create(f.ino, "x"); }), Errc::not_dir);
  EXPECT_EQ(code_of([&] { store().link(f.ino, f.ino, "x"); }), Errc::not_dir);
  EXPECT_EQ(code_of([&] { mkdir(1, "f"); }), Errc::exists);
  EXPECT_EQ(code_of([&] { mknod(1, "d"); }), Errc::exists);
  NodeArgs s{1, "d", proto::FileType::SYMLINK, 0, 0, "target", caller_};
  EXPECT_EQ(code_of([&] { store().symlink(s); }), Errc::exists);
  EXPECT_EQ(code_of([&] { store().link(f.ino, 1, "d"); }), Errc::exists);
  EXPECT_EQ(code_of([&] { mkdir(999, "x"); }), Errc::not_found);
}

TEST_P(NamespaceTest, SetgidDirectoriesPassOnTheirGroup) {
  auto d = mkdir(1, "shared", 02775);
  SetattrArgs group;
  group.ino = d.ino;
  group.gid = 555;
  store().setattr(group);
  Caller other{2000, 200};
  NodeArgs sub{d.ino, "sub", proto::FileType::DIRECTORY, 0755, 0, "", other};
  auto s = store().mkdir(sub);
  EXPECT_EQ(s.gid, 555u);
  EXPECT_EQ(s.mode, 02755u);
  NodeArgs file{d.ino, "f", proto::FileType::REGULAR, 0644, 0, "", other};
  auto f = store().mknod(file);
  EXPECT_EQ(f.gid, 555u);
  EXPECT_EQ(f.mode, 0644u);
  EXPECT_EQ(f.uid, 2000u);
  CreateArgs c;
  c.parent = d.ino;
  c.name = "c";
  c.mode = 0600;
  c.caller = other;
  EXPECT_EQ(store().create(c).attr.gid, 555u);
}

TEST_P(NamespaceTest, SymlinksAndSpecialFiles) {
  NodeArgs s{1, "l", proto::FileType::SYMLINK, 0, 0, "some/where", caller_};
  auto l = store().symlink(s);
  EXPECT_EQ(l.type, proto::FileType::SYMLINK);
  EXPECT_EQ(l.size, 10u);
  EXPECT_EQ(store().readlink(l.ino), "some/where");
  auto f = mknod(1, "f");
  EXPECT_EQ(code_of([&] { store().readlink(f.ino); }), Errc::invalid);
  NodeArgs dev{1, "tty", proto::FileType::CHAR_DEVICE, 0620, (4u << 8) | 1, "", caller_};
  auto t = store().mknod(dev);
  EXPECT_EQ(t.type, proto::FileType::CHAR_DEVICE);
  EXPECT_EQ(t.rdev, (4u << 8) | 1);
  NodeArgs fifo{1, "p", proto::FileType::FIFO, 0600, 0, "", caller_};
  EXPECT_EQ(store().mknod(fifo).type, proto::FileType::FIFO);
  NodeArgs bad{1, "x", proto::FileType::DIRECTORY, 0755, 0, "", caller_};
  EXPECT_EQ(code_of([&] { store().mknod(bad); }), Errc::invalid);
  NodeArgs empty{1, "e", proto::FileType::SYMLINK, 0, 0, "", caller_};
  EXPECT_NE(code_of([&] { store().symlink(empty); }), Errc::ok);
}

TEST_P(NamespaceTest, HardLinks) {
  auto f = mknod(1, "f");
  auto d = mkdir(1, "d");
  advance_ms(5);
  auto l = store().link(f.ino, d.ino, "g");
  EXPECT_EQ(l.ino, f.ino);
  EXPECT_EQ(l.nlink, 2u);
  EXPECT_GT(l.ctime_ns, f.ctime_ns);
  EXPECT_EQ(store().lookup(d.ino, "g").ino, f.ino);
  EXPECT_EQ(code_of([&] { store().link(d.ino, 1, "dd"); }), Errc::not_permitted);
  EXPECT_EQ(code_of([&] { store().link(f.ino, 1, "d"); }), Errc::exists);
  EXPECT_EQ(code_of([&] { store().link(999, 1, "zz"); }), Errc::not_found);
  store().unlink(1, "f");
  EXPECT_EQ(store().getattr(f.ino).nlink, 1u);
  store().unlink(d.ino, "g");
  EXPECT_EQ(code_of([&] { store().getattr(f.ino); }), Errc::not_found);
}

TEST_P(NamespaceTest, UnlinkAndRmdirErrors) {
  auto d = mkdir(1, "d");
  mknod(d.ino, "f");
  EXPECT_EQ(code_of([&] { store().unlink(1, "d"); }), Errc::is_dir);
  EXPECT_EQ(code_of([&] { store().rmdir(d.ino, "f"); }), Errc::not_dir);
  EXPECT_EQ(code_of([&] { store().rmdir(1, "d"); }), Errc::not_empty);
  EXPECT_EQ(code_of([&] { store().unlink(1, "nope"); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { store().rmdir(1, "nope"); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { store().rmdir(1, ".."); }), Errc::invalid);
  EXPECT_EQ(code_of([&] { store().rmdir(1, "."); }), Errc::invalid);
  store().unlink(d.ino, "f");
  EXPECT_EQ(store().getattr(1).nlink, 3u);
  store().rmdir(1, "d");
  EXPECT_EQ(store().getattr(1).nlink, 2u);
  EXPECT_EQ(code_of([&] { store().getattr(d.ino); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { store().lookup(1, "d"); }), Errc::not_found);
}

TEST_P(NamespaceTest, ReaddirPagesByCookie) {
  auto d = mkdir(1, "d");
  for (int i = 0; i < 25; ++i) mknod(d.ino, "f" + std::to_string(i));
  mkdir(d.ino, "sub");
  std::vector<std::string> names;
  uint64_t after = 0;
  int pages = 0;
  for (;;) {
    auto page = store().readdir(d.ino, after, 10);
    EXPECT_EQ(page.parent_ino, 1u);
    ++pages;
    for (const auto& e : page.entries) {
      EXPECT_GE(e.cookie, 3u);
      EXPECT_GT(e.cookie, after);
      after = e.cookie;
      names.push_back(e.name);
      if (e.name == "sub") {
        EXPECT_EQ(e.attr.type, proto::FileType::DIRECTORY);
      }
    }
    if (page.eof) break;
    // Entries that come and go do not disturb a listing in progress.
    if (pages == 1) store().unlink(d.ino, "f0");
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names.size(), 26u);
  EXPECT_EQ(names.front(), "f0");
  EXPECT_EQ(names.back(), "sub");
  EXPECT_EQ(store().readdir(d.ino, 0, 0).entries.size(), 1u);    // at least one
  EXPECT_EQ(store().readdir(d.ino, 0, 5000).entries.size(), 25u);  // capped at 1000
  auto f = mknod(1, "file");
  EXPECT_EQ(code_of([&] { store().readdir(f.ino, 0, 10); }), Errc::not_dir);
  EXPECT_TRUE(store().readdir(1, 0, 100).eof);
}

// Pages of at most 1000 entries in cookie order, eof exactly when nothing follows, and
// the answers for empty, missing and non-directory inodes.
TEST_P(NamespaceTest, ReaddirOfLargeEmptyAndMissingDirectories) {
  auto empty = mkdir(1, "empty");
  auto page = store().readdir(empty.ino, 0, 100);
  EXPECT_TRUE(page.entries.empty());
  EXPECT_TRUE(page.eof);
  EXPECT_EQ(page.parent_ino, 1u);
  EXPECT_EQ(code_of([&] { store().readdir(999999, 0, 10); }), Errc::not_found);
  auto d = mkdir(1, "big");
  auto sub = mkdir(empty.ino, "sub");
  EXPECT_EQ(store().readdir(sub.ino, 0, 10).parent_ino, empty.ino);
  for (int i = 0; i < 2000; ++i) mknod(d.ino, "e" + std::to_string(i));
  std::vector<std::string> names;
  uint64_t after = 0;
  int pages = 0;
  for (;;) {
    page = store().readdir(d.ino, after, 5000);
    ++pages;
    EXPECT_LE(page.entries.size(), 1000u);
    for (const auto& e : page.entries) {
      EXPECT_GT(e.cookie, after);
      after = e.cookie;
      names.push_back(e.name);
    }
    if (pages == 1) {
      // Entries created during the listing come after the cursor; removed ones
      // that were listed already leave the rest as it was.
      mknod(d.ino, "late");
      store().unlink(d.ino, "e0");
      store().unlink(d.ino, "e1999");
    }
    if (page.eof) break;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 2);  // e0..e999, then e1000..e1998 and "late": exactly full, and eof
  ASSERT_EQ(names.size(), 2000u);
  EXPECT_EQ(names.front(), "e0");
  EXPECT_EQ(names.back(), "late");
  // Exactly a full page left: eof on that page, and an empty eof page after it.
  auto exact = mkdir(1, "exact");
  for (int i = 0; i < 10; ++i) mknod(exact.ino, "x" + std::to_string(i));
  page = store().readdir(exact.ino, 0, 10);
  EXPECT_EQ(page.entries.size(), 10u);
  EXPECT_TRUE(page.eof);
  page = store().readdir(exact.ino, page.entries.back().cookie, 10);
  EXPECT_TRUE(page.entries.empty());
  EXPECT_TRUE(page.eof);
  page = store().readdir(exact.ino, 0, 9);
  EXPECT_FALSE(page.eof);
}

TEST_P(NamespaceTest, SetattrChangesAndBumps) {
  auto f = mknod(1, "f");
  advance_ms(3);
  SetattrArgs a;
  a.ino = f.ino;
  a.mode = 0600;
  a.uid = 42;
  a.gid = 43;
  a.atime_ns = 1000;
  a.mtime_ns = 2000;
  auto r = store().setattr(a);
  EXPECT_EQ(r.mode, 0600u);
  EXPECT_EQ(r.uid, 42u);
  EXPECT_EQ(r.gid, 43u);
  EXPECT_EQ(r.atime_ns, 1000);
  EXPECT_EQ(r.mtime_ns, 2000);
  EXPECT_GT(r.ctime_ns, f.ctime_ns);
  EXPECT_EQ(r.version, f.version + 1);
  SetattrArgs now;
  now.ino = f.ino;
  now.atime_now = true;
  now.mtime_now = true;
  auto n = store().setattr(now);
  EXPECT_EQ(n.atime_ns, now_ns_.load());
  EXPECT_EQ(n.mtime_ns, now_ns_.load());
  auto d = mkdir(1, "d");
  SetattrArgs trunc_dir;
  trunc_dir.ino = d.ino;
  trunc_dir.size = 0;
  EXPECT_EQ(code_of([&] { store().setattr(trunc_dir); }), Errc::is_dir);
  SetattrArgs missing;
  missing.ino = 999;
  EXPECT_EQ(code_of([&] { store().setattr(missing); }), Errc::not_found);
}

TEST_P(NamespaceTest, Xattrs) {
  auto f = mknod(1, "f");
  store().setxattr(f.ino, "user.a", "1", false, false);
  store().setxattr(f.ino, "user.b", std::string("\0\1", 2), false, false);
  EXPECT_EQ(store().getxattr(f.ino, "user.a"), "1");
  EXPECT_EQ(store().getxattr(f.ino, "user.b"), std::string("\0\1", 2));
  EXPECT_EQ(store().listxattr(f.ino), (std::vector<std::string>{"user.a", "user.b"}));
  EXPECT_EQ(code_of([&] { store().setxattr(f.ino, "user.a", "2", true, false); }), Errc::exists);
  EXPECT_EQ(code_of([&] { store().setxattr(f.ino, "user.c", "2", false, true); }), Errc::no_data);
  store().setxattr(f.ino, "user.a", "2", false, true);
  EXPECT_EQ(store().getxattr(f.ino, "user.a"), "2");
  EXPECT_EQ(code_of([&] { store().getxattr(f.ino, "user.zz"); }), Errc::no_data);
  EXPECT_EQ(code_of([&] { store().getxattr(999, "user.zz"); }), Errc::not_found);
  EXPECT_EQ(code_of([&] { store().setxattr(f.ino, "user.big", std::string(65537, 'v'), false,
                                           false); }),
            Errc::range);
  store().setxattr(f.ino, "user.max", std::string(65536, 'v'), false, false);
  EXPECT_EQ(code_of([&] { store().setxattr(f.ino, std::string(256, 'n'), "v", false, false); }),
            Errc::name_too_long);
  store().removexattr(f.ino, "user.a");
  EXPECT_EQ(code_of([&] { store().removexattr(f.ino, "user.a"); }), Errc::no_data);
  EXPECT_EQ(store().listxattr(f.ino).size(), 2u);
  EXPECT_GT(store().getattr(f.ino).version, f.version);
}

}  // namespace
}  // namespace zhsm
