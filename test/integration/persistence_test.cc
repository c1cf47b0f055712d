// Persistence across a restart of the whole cluster: a tree of files (inline,
// chunked, sparse, empty), directories, symlinks, a hard link, a fifo, xattrs,
// owners, modes and explicit times is created on the mount; `zhsm-cluster down`
// and `up` on the same directory; then every entry must still be there with the
// same type, mode, owner, size, inode number, mtime, content, link target and
// xattrs.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "common/sha256.h"
#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

constexpr off_t kMiB = 1 << 20;
// The mount's attribute cache (1 s) and the controller's reconnect.
constexpr auto kVisibleAfterCrash = std::chrono::seconds(10);

// Everything observable about one entry, as text.
std::string describe(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return errno_text(errno);
  std::string out = stat_line(st) + " ino=" + std::to_string(st.st_ino) +
                    " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
                    std::to_string(st.st_mtim.tv_nsec);
  if (S_ISREG(st.st_mode)) {
    std::string data = file_text(p);
    out += " sha256=" + to_hex(sha256(data.data(), data.size()));
  } else if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
    out += " target=" + (n >= 0 ? std::string(buf, static_cast<size_t>(n)) : errno_text(errno));
  }
  if (!S_ISLNK(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    ssize_t size = ::listxattr(p.c_str(), nullptr, 0);
    std::string names(static_cast<size_t>(std::max<ssize_t>(size, 0)), '\0');
    ssize_t got = ::listxattr(p.c_str(), names.data(), names.size());
    std::vector<std::string> list;
    for (size_t i = 0; got > 0 && i < static_cast<size_t>(got);) {
      std::string name(names.data() + i);
      i += name.size() + 1;
      char value[4096];
      ssize_t vn = ::getxattr(p.c_str(), name.c_str(), value, sizeof value);
      list.push_back(name + "=" + (vn >= 0 ? show(std::string(value, static_cast<size_t>(vn)))
                                            : errno_text(errno)));
    }
    std::sort(list.begin(), list.end());
    for (auto& x : list) out += " xattr:" + x;
  }
  return out;
}

// Every entry below `root`, by relative path.
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
    out[it->path().lexically_relative(root).string()] = describe(it->path());
  if (ec) out["<walk error>"] = ec.message();
  return out;
}

void make(const fs::path& p, const std::string& data, mode_t mode) {
  ASSERT_TRUE(write_file(p, data, mode));
  ASSERT_EQ(::chmod(p.c_str(), mode), 0);
}

class Persistence : public MountTest {};

TEST_F(Persistence, EverythingSurvivesARestart) {
  const fs::path d = mount_dir_;
  make(d / "small.txt", "hello persistence\n", 0640);
  make(d / "empty", "", 0600);
  make(d / "medium", pattern_bytes(41, 300 * 1024), 0604);
  make(d / "multi-chunk", pattern_bytes(42, 20 * kMiB + 123), 0644);
  {
    int fd = ::open((d / "sparse").c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "x", 1, 40 * kMiB), 1);
    ASSERT_EQ(::close(fd), 0) << errno_text(errno);
  }
  make(d / std::string(255, 'L'), "long name", 0644);
  ASSERT_EQ(::mkdir((d / "sub").c_str(), 0750), 0);
  ASSERT_EQ(::mkdir((d / "sub" / "deeper").c_str(), 0700), 0);
  make(d / "sub" / "deeper" / "file", "deep", 0755);
  ASSERT_EQ(::mkdir((d / "sub" / "empty-dir").c_str(), 0711), 0);
  ASSERT_EQ(::symlink("small.txt", (d / "link").c_str()), 0);
  ASSERT_EQ(::symlink("nowhere/at/all", (d / "dangling").c_str()), 0);
  ASSERT_EQ(::link((d / "small.txt").c_str(), (d / "sub" / "hard").c_str()), 0);
  ASSERT_EQ(::mknod((d / "fifo").c_str(), S_IFIFO | 0620, 0), 0);
  ASSERT_EQ(::setxattr((d / "small.txt").c_str(), "user.a", "1", 1, 0), 0) << errno_text(errno);
  ASSERT_EQ(::setxattr((d / "medium").c_str(), "user.bin", "\0\x01\xff", 3, 0), 0);
  ASSERT_EQ(::setxattr((d / "sub").c_str(), "user.dir", "yes", 3, 0), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown((d / "medium").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::lchown((d / "link").c_str(), 42, 43), 0);
  }
  timespec times[2] = {{1'234'567'890, 111}, {1'234'567'891, 222}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (d / "empty").c_str(), times, 0), 0);
  ASSERT_EQ(::chmod(d.c_str(), 0751), 0);

  auto before = snapshot(d);
  std::string listing;
  for (const auto& [path, what] : before) listing += "\n  " + path + ": " + what;
  ASSERT_EQ(before.size(), 14u) << "entries found below the test directory:" << listing;
  struct stat dir_before {};
  ASSERT_EQ(::stat(d.c_str(), &dir_before), 0);

  ASSERT_TRUE(cluster().down()) << "zhsm-cluster down failed";
  ASSERT_FALSE(is_mounted(cluster().mount()));
  ASSERT_TRUE(cluster().up(2)) << "zhsm-cluster up after down failed";

  auto after = snapshot(d);
  for (const auto& [path, what] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      ADD_FAILURE() << path << " is gone after the restart (was: " << what << ")";
      continue;
    }
    EXPECT_EQ(it->second, what) << path << " changed across the restart";
  }
  for (const auto& [path, what] : after)
    EXPECT_TRUE(before.count(path)) << path << " appeared after the restart: " << what;
  struct stat dir_after {};
  ASSERT_EQ(::stat(d.c_str(), &dir_after), 0);
  EXPECT_EQ(dir_after.st_mode, dir_before.st_mode);
  EXPECT_EQ(dir_after.st_ino, dir_before.st_ino);

  // The restarted cluster takes new data, and old files can still be changed.
  EXPECT_TRUE(write_file(d / "after-restart", "new"));
  EXPECT_EQ(file_text(d / "after-restart"), "new");
  int fd = ::open((d / "multi-chunk").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << errno_text(errno);
  EXPECT_EQ(::pwrite(fd, "patched", 7, 17 * kMiB), 7);
  EXPECT_EQ(::close(fd), 0) << errno_text(errno);
  std::string expect = pattern_bytes(42, 20 * kMiB + 123);
  expect.replace(17 * kMiB, 7, "patched");
  EXPECT_TRUE(file_text(d / "multi-chunk") == expect) << "multi-chunk after a write past the restart";
}

// What a close acknowledged survives a crash of PostgreSQL (doc/durability.md), with the
// mode and times set before the close as cp -a sets them (held for the data's commit and
// applied in its synchronous transaction). Namespace changes committed after the last
// flush may be lost in such a crash; the controller then forgets what it had cached of
// them (ConnectionPool::on_replaced), so the mount shows what the database has.
TEST_F(Persistence, WhatACloseAcknowledgedSurvivesACrashOfPostgreSQL) {
  const fs::path d = mount_dir_;
  const fs::path f = d / "copied";
  int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0) << errno_text(errno);
  ASSERT_EQ(write_all(fd, "survives the crash"), 18);
  timespec times[2] = {{1'500'000'000, 7}, {1'600'000'000, 9}};
  ASSERT_EQ(::futimens(fd, times), 0) << errno_text(errno);
  ASSERT_EQ(::fchmod(fd, 0640), 0) << errno_text(errno);
  ASSERT_EQ(::close(fd), 0) << errno_text(errno);
  const std::string want = describe(f);

  CommandResult crash = cluster().crash_postgres();
  ASSERT_TRUE(crash.ok()) << crash.describe();
  // The first change after the crash finds its database connection gone and replaces it.
  ASSERT_TRUE(eventually([&] { return ::mkdir((d / "after-crash").c_str(), 0755) == 0 ||
                                      errno == EEXIST; }, 60s))
      << "no change went through after PostgreSQL came back: " << errno_text(errno);
  EXPECT_TRUE(eventually([&] { return describe(f) == want; }, kVisibleAfterCrash))
      << "after the crash: " << describe(f) << "\nbefore: " << want;
  EXPECT_EQ(file_text(f), "survives the crash");
  struct stat st {};
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'600'000'000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 9);
  EXPECT_EQ(st.st_atim.tv_sec, 1'500'000'000);
}

}  // namespace
}  // namespace zhsm::test
