// Unit tests of the local path -> namespace path conversion of zhsm-admin.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "tools/admin/mount_path.h"

namespace zhsm::admin {
namespace {

TEST(ParseMounts, DecodesEscapesAndSkipsJunk) {
  auto m = parse_mounts(
      "proc /proc proc rw,nosuid 0 0\n"
      "zhsm /srv/my\\040zhsm fuse.zhsm rw,user_id=0 0 0\n"
      "\n"
      "broken-line\n"
      "zhsm /a\\134b\\011c fuse.zhsm rw 0 0");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].mount_point, "/proc");
  EXPECT_EQ(m[0].fstype, "proc");
  EXPECT_EQ(m[1].source, "zhsm");
  EXPECT_EQ(m[1].mount_point, "/srv/my zhsm");
  EXPECT_EQ(m[1].fstype, "fuse.zhsm");
  EXPECT_EQ(m[2].mount_point, "/a\\b\tc");
}

TEST(ParseMounts, OnlyZhsmMountsCount) {
  auto m = parse_mounts(
      "a /x fuse.sshfs rw 0 0\n"
      "b /y fuse.zhsm rw 0 0\n"
      "c /z fuse rw 0 0\n"
      "zhsm /w fuse.zhsm-fuse rw 0 0\n");
  EXPECT_EQ(zhsm_mount_points(m), (std::vector<std::string>{"/y", "/w"}));
}

TEST(NamespacePathUnder, LongestMountWins) {
  std::vector<std::string> mps = {"/mnt", "/mnt/inner", "/data"};
  EXPECT_EQ(namespace_path_under("/mnt/inner/a/b", mps), "/a/b");
  EXPECT_EQ(namespace_path_under("/mnt/innerx/a", mps), "/innerx/a");
  EXPECT_EQ(namespace_path_under("/mnt", mps), "/");
  EXPECT_EQ(namespace_path_under("/mnt/inner", mps), "/");
  EXPECT_EQ(namespace_path_under("/data/f", mps), "/f");
  EXPECT_EQ(namespace_path_under("/database/f", mps), std::nullopt);
  EXPECT_EQ(namespace_path_under("/other", mps), std::nullopt);
  EXPECT_EQ(namespace_path_under("/any/thing", {"/"}), "/any/thing");
}

TEST(NormalizeNamespacePath, Lexical) {
  EXPECT_EQ(normalize_namespace_path("/"), "/");
  EXPECT_EQ(normalize_namespace_path(""), "/");
  EXPECT_EQ(normalize_namespace_path("/a//b/./c/"), "/a/b/c");
  EXPECT_EQ(normalize_namespace_path("/a/../b"), "/b");
  EXPECT_EQ(normalize_namespace_path("/../.."), "/");
}

// A temporary directory posing as a zhsm mount, with a fake mounts file.
class ToNamespacePath : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zhsm-admin-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = std::filesystem::canonical(tmpl);
    mnt_ = root_ / "mnt point";
    std::filesystem::create_directories(mnt_ / "dir");
    std::ofstream(mnt_ / "dir" / "file") << "x";
    std::filesystem::create_symlink("dir/file", mnt_ / "link");
    std::filesystem::create_symlink(mnt_, root_ / "via");
    mounts_ = (root_ / "mounts").string();
    std::string escaped = mnt_.string();
    escaped.replace(escaped.find(' '), 1, "\\040");
    std::ofstream(mounts_) << "proc /proc proc rw 0 0\nzhsm " << escaped
                           << " fuse.zhsm rw,user_id=0 0 0\n";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::filesystem::path root_, mnt_;
  std::string mounts_;
};

TEST_F(ToNamespacePath, LocalPathOnAMountIsConverted) {
  EXPECT_EQ(to_namespace_path((mnt_ / "dir" / "file").string(), mounts_), "/dir/file");
  EXPECT_EQ(to_namespace_path(mnt_.string(), mounts_), "/");
  EXPECT_EQ(to_namespace_path(mnt_.string() + "/", mounts_), "/");
  EXPECT_EQ(to_namespace_path((mnt_ / "dir" / ".").string(), mounts_), "/dir");
  EXPECT_EQ(to_namespace_path((mnt_ / "dir" / "..").string(), mounts_), "/");
}

TEST_F(ToNamespacePath, DirectoriesAreResolvedTheLastComponentIsNot) {
  // A symlink is described itself, not its target...
  EXPECT_EQ(to_namespace_path((mnt_ / "link").string(), mounts_), "/link");
  // ...but symlinks in the directories leading to it are followed.
  EXPECT_EQ(to_namespace_path((root_ / "via" / "dir" / "file").string(), mounts_), "/dir/file");
}

TEST_F(ToNamespacePath, RelativeLocalPath) {
  auto old = std::filesystem::current_path();
  std::filesystem::current_path(mnt_ / "dir");
  EXPECT_EQ(to_namespace_path("file", mounts_), "/dir/file");
  EXPECT_EQ(to_namespace_path(".", mounts_), "/dir");
  EXPECT_EQ(to_namespace_path("../link", mounts_), "/link");
  std::filesystem::current_path(old);
}

TEST_F(ToNamespacePath, OtherPathsAreNamespacePaths) {
  EXPECT_EQ(to_namespace_path("/a/b", mounts_), "/a/b");
  EXPECT_EQ(to_namespace_path("/a//b/", mounts_), "/a/b");
  // Exists locally but not on a zhsm mount: taken as a namespace path.
  EXPECT_EQ(to_namespace_path(root_.string(), mounts_), root_.string());
  EXPECT_EQ(to_namespace_path("/", mounts_), "/");
}

TEST_F(ToNamespacePath, RelativePathOffAMountIsRefused) {
  try {
    to_namespace_path("no/such/relative/path", mounts_);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid);
  }
  EXPECT_THROW(to_namespace_path("", mounts_), Error);
}

}  // namespace
}  // namespace zhsm::admin
