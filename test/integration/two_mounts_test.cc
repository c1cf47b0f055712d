// Two client mounts of the same cluster (the main one and one added with
// `zhsm-cluster mount`): what one mount creates, writes (once closed), renames,
// changes or deletes, the other sees. Attribute and entry caches may hold old
// answers for about a second, so the second mount is polled with a bound.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "test/integration/cluster.h"
#include "test/integration/two_mount_test.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

using TwoMounts = TwoMountTest;

TEST_F(TwoMounts, CreateWriteDeleteAreSeenOnTheOther) {
  ASSERT_TRUE(write_file(a_ / "f", "version one"));
  EXPECT_TRUE(eventually([&] { return file_text(b_ / "f") == "version one"; }, kVisible))
      << "second mount reads " << show(file_text(b_ / "f"));

  // A write that grows the file, visible after close.
  int fd = ::open((a_ / "f").c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0) << errno_text(errno);
  ASSERT_EQ(write_all(fd, "version two, longer than one"), 28);
  ASSERT_EQ(::close(fd), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] { return file_text(b_ / "f") == "version two, longer than one"; }, kVisible))
      << "second mount reads " << show(file_text(b_ / "f"));

  // A write that shrinks it.
  ASSERT_TRUE(write_file(a_ / "f", "3"));
  EXPECT_TRUE(eventually([&] { return file_text(b_ / "f") == "3"; }, kVisible))
      << "second mount reads " << show(file_text(b_ / "f"));

  ASSERT_EQ(::unlink((a_ / "f").c_str()), 0);
  EXPECT_TRUE(eventually([&] { return !present(b_ / "f"); }, kVisible))
      << "a file deleted on the first mount is still on the second";
}

TEST_F(TwoMounts, BothDirections) {
  ASSERT_TRUE(write_file(b_ / "from-b", "written on the second mount"));
  EXPECT_TRUE(eventually([&] { return file_text(a_ / "from-b") == "written on the second mount"; }, kVisible));
  ASSERT_EQ(::mkdir((b_ / "dir").c_str(), 0755), 0);
  EXPECT_TRUE(eventually([&] { return present(a_ / "dir"); }, kVisible));
  ASSERT_EQ(::rename((a_ / "from-b").c_str(), (a_ / "dir" / "moved").c_str()), 0);
  EXPECT_TRUE(eventually([&] { return present(b_ / "dir" / "moved") && !present(b_ / "from-b"); }, kVisible));
  ASSERT_EQ(::unlink((b_ / "dir" / "moved").c_str()), 0);
  ASSERT_EQ(::rmdir((b_ / "dir").c_str()), 0);
  EXPECT_TRUE(eventually([&] { return !present(a_ / "dir"); }, kVisible));
}

TEST_F(TwoMounts, AttributesAndXattrs) {
  ASSERT_TRUE(write_file(a_ / "f", "attrs"));
  ASSERT_TRUE(eventually([&] { return present(b_ / "f"); }, kVisible));
  ASSERT_EQ(::chmod((a_ / "f").c_str(), 0600), 0);
  EXPECT_TRUE(eventually([&] {
    struct stat st {};
    return ::stat((b_ / "f").c_str(), &st) == 0 && (st.st_mode & 07777) == 0600;
  }, kVisible)) << "chmod on the first mount not seen on the second";
  ASSERT_EQ(::setxattr((a_ / "f").c_str(), "user.k", "v", 1, 0), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] {
    char buf[8];
    return ::getxattr((b_ / "f").c_str(), "user.k", buf, sizeof buf) == 1 && buf[0] == 'v';
  }, kVisible)) << "xattr set on the first mount not seen on the second";
  ASSERT_EQ(::symlink("f", (b_ / "l").c_str()), 0);
  EXPECT_TRUE(eventually([&] {
    char buf[8];
    return ::readlink((a_ / "l").c_str(), buf, sizeof buf) == 1 && buf[0] == 'f';
  }, kVisible));
}

// Absent xattrs are remembered for the attribute timeout (client-fuse/xattr_cache.h): a
// new file answers ENODATA without asking, this mount's own setxattr shows at once, and
// another mount's shows once the timeout has passed.
TEST_F(TwoMounts, AbsentXattrsAreRememberedOnlyForTheTimeout) {
  const std::string f = (a_ / "x").string();
  int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0) << errno_text(errno);
  ASSERT_EQ(write_all(fd, "data"), 4);
  ASSERT_EQ(::close(fd), 0);
  char buf[16];
  errno = 0;
  EXPECT_EQ(::getxattr(f.c_str(), "user.k", buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENODATA);
  EXPECT_EQ(::listxattr(f.c_str(), buf, sizeof buf), 0);
  // This mount's own change is seen at once, though it remembered the name absent.
  ASSERT_EQ(::setxattr(f.c_str(), "user.k", "v1", 2, 0), 0) << errno_text(errno);
  EXPECT_EQ(::getxattr(f.c_str(), "user.k", buf, sizeof buf), 2);
  EXPECT_EQ(std::string(buf, 2), "v1");
  EXPECT_EQ(::listxattr(f.c_str(), buf, sizeof buf), 7) << "user.k and its NUL";
  ASSERT_EQ(::removexattr(f.c_str(), "user.k"), 0) << errno_text(errno);
  errno = 0;
  EXPECT_EQ(::getxattr(f.c_str(), "user.k", buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENODATA);

  // The second mount learns the name is absent, then the first sets it: the second sees
  // the value once its remembered answer has expired.
  const std::string g = (b_ / "x").string();
  ASSERT_TRUE(eventually([&] { return present(g); }, kVisible));
  errno = 0;
  EXPECT_EQ(::getxattr(g.c_str(), "user.other", buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENODATA);
  ASSERT_EQ(::setxattr(f.c_str(), "user.other", "v2", 2, 0), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] {
    return ::getxattr(g.c_str(), "user.other", buf, sizeof buf) == 2 && std::string(buf, 2) == "v2";
  }, kVisible)) << "another mount's setxattr never showed";
}

// Both mounts run with the readahead zhsm-fuse sets (read_ahead_kb, default 4 MiB), not
// the kernel's 128 KiB for a new FUSE device.
TEST_F(TwoMounts, MountsHaveTheirReadahead) {
  for (const auto& root : {Cluster::get().mount(), second_mount()}) {
    struct stat st {};
    ASSERT_EQ(::stat(root.c_str(), &st), 0) << root << ": " << errno_text(errno);
    const std::string sysfs = "/sys/class/bdi/" + std::to_string(major(st.st_dev)) + ":" +
                              std::to_string(minor(st.st_dev)) + "/read_ahead_kb";
    EXPECT_EQ(file_text(sysfs), "4096\n") << root << " (" << sysfs << ")";
  }
}

TEST_F(TwoMounts, LargeFileWrittenOnOneReadOnTheOther) {
  std::string data = pattern_bytes(77, 20 << 20);
  ASSERT_TRUE(write_file(b_ / "big", data));
  EXPECT_TRUE(eventually([&] { return file_text(a_ / "big") == data; }, kVisible))
      << "20 MiB written on the second mount read differently on the first";
  // Overwrite the middle on the first mount; the second sees it after close.
  int fd = ::open((a_ / "big").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "MIDDLE", 6, 10 << 20), 6);
  ASSERT_EQ(::close(fd), 0) << errno_text(errno);
  data.replace(10 << 20, 6, "MIDDLE");
  EXPECT_TRUE(eventually([&] { return file_text(b_ / "big") == data; }, kVisible))
      << "an overwrite on the first mount not seen on the second";
}

// A reader that opens after the writer closed sees the new data, even if it had
// the file open (and cached) before.
TEST_F(TwoMounts, CloseToOpenConsistency) {
  ASSERT_TRUE(write_file(a_ / "c2o", std::string(100000, 'a')));
  ASSERT_TRUE(eventually([&] { return file_text(b_ / "c2o") == std::string(100000, 'a'); }, kVisible));
  int reader = ::open((b_ / "c2o").c_str(), O_RDONLY);
  ASSERT_GE(reader, 0);
  EXPECT_EQ(pread_text(reader, 10, 0), "aaaaaaaaaa");
  ASSERT_TRUE(write_file(a_ / "c2o", std::string(100000, 'b')));
  EXPECT_TRUE(eventually([&] { return file_text(b_ / "c2o") == std::string(100000, 'b'); }, kVisible))
      << "a fresh open on the second mount does not see data closed on the first";
  ::close(reader);
}

}  // namespace
}  // namespace zhsm::test
