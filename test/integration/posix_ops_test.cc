// Every filesystem operation the mount serves, done through ordinary syscalls:
// each scenario runs once on the zhsm mount and once on a native directory, and
// what the calls return (values, errno, contents, stat fields) must agree step
// by step. Times, inode numbers and statfs, which differ by nature, are checked
// against what they must be instead.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/clock.h"
#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

constexpr off_t kMiB = 1 << 20;

class PosixOps : public MountTest {};

int64_t ns_of(const timespec& ts) { return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec; }

// Writes a file through open/write/close and records each step.
void put(Transcript& t, const fs::path& p, const std::string& data, mode_t mode = 0644) {
  int fd = static_cast<int>(t.call("open " + p.filename().string() + " O_CREAT|O_WRONLY|O_TRUNC",
                                   [&] { return ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, mode); }));
  if (fd < 0) return;
  t.call("write " + std::to_string(data.size()), [&] { return write_all(fd, data); });
  t.call("close", [&] { return ::close(fd); });
}

TEST_F(PosixOps, CreateWriteReadClose) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "hello";
    int fd = static_cast<int>(t.call("open O_CREAT|O_EXCL|O_RDWR", [&] {
      return ::open(f.c_str(), O_CREAT | O_EXCL | O_RDWR, 0644);
    }));
    t.call("write", [&] { return ::write(fd, "hello, zhsm\n", 12); });
    t.call("close", [&] { return ::close(fd); });
    fd = static_cast<int>(t.call("open O_RDONLY", [&] { return ::open(f.c_str(), O_RDONLY); }));
    char buf[100] = {};
    long n = t.call("read", [&] { return ::read(fd, buf, sizeof buf); });
    t.note("data", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    t.call("read at end", [&] { return ::read(fd, buf, sizeof buf); });
    t.call("write on O_RDONLY fd", [&] { return ::write(fd, "x", 1); });
    t.call("close", [&] { return ::close(fd); });
    t.note("stat", stat_line(f));
    // Sizes around the inline limit (64 KiB) and a multi-MiB file.
    for (size_t size : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{65537},
                        size_t{3 * kMiB + 17}}) {
      fs::path g = d / ("size-" + std::to_string(size));
      std::string data = pattern_bytes(size, size);
      put(t, g, data);
      std::string back = file_text(g);
      t.note("read back " + std::to_string(size), show(back));
      t.note("equal " + std::to_string(size), back == data ? "yes" : "no");
      t.note("stat", stat_line(g));
    }
  });
}

// The mount's own metrics (doc/operator-guide.md): each FUSE request by operation with
// its time, its failures by code, and the controller calls it made.
TEST_F(PosixOps, TheMountCountsItsRequests) {
  const Cluster& c = cluster();
  auto value = [&](const std::string& series) { return c.metric("fuse-mnt", series); };
  const std::string creates = "zhsm_fuse_requests_total{op=\"create\"}";
  const std::string create_calls = "zhsm_fuse_controller_calls_total{op=\"create\"}";
  const std::string missing = "zhsm_fuse_errors_total{op=\"lookup\",code=\"not_found\"}";
  const double creates_before = std::max(0.0, value(creates));
  const double calls_before = std::max(0.0, value(create_calls));
  const double missing_before = std::max(0.0, value(missing));
  ASSERT_GE(value("zhsm_fuse_open_handles"), 0) << "the mount serves no metrics";

  ASSERT_EQ(zhsm::test::put(mount_dir_ / "counted", std::string("x")), 1) << errno_text(errno);
  struct stat st {};
  EXPECT_NE(::stat((mount_dir_ / "absent").c_str(), &st), 0);
  EXPECT_EQ(errno, ENOENT);

  EXPECT_EQ(value(creates), creates_before + 1);
  EXPECT_EQ(value(create_calls), calls_before + 1);
  EXPECT_GE(value(missing), missing_before + 1);
  EXPECT_GT(value("zhsm_fuse_request_seconds_sum{op=\"create\"}"), 0);
  EXPECT_GT(value("zhsm_fuse_controller_call_seconds_sum{op=\"commitData\"}"), 0);

  // The file-server calls too: a file past the inline size is written in a write session
  // and read back from its object once the kernel's pages are gone.
  auto calls = [&](const char* op) {
    return std::max(0.0, value(std::string("zhsm_fuse_server_calls_total{op=\"") + op + "\"}"));
  };
  const double begins = calls("beginWrite"), pieces = calls("writeObject"),
               commits = calls("commitWrite"), reads = calls("readObject");
  const std::string data = pattern_bytes(9, 300 * 1024);
  ASSERT_EQ(zhsm::test::put(mount_dir_ / "chunked", data), long(data.size())) << errno_text(errno);
  int fd = ::open((mount_dir_ / "chunked").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0) << errno_text(errno);
  ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  std::string back(data.size(), '\0');
  EXPECT_EQ(::pread(fd, back.data(), back.size(), 0), long(data.size()));
  ::close(fd);
  EXPECT_TRUE(back == data);
  EXPECT_EQ(calls("beginWrite"), begins + 1);
  EXPECT_GE(calls("writeObject"), pieces + 1);
  EXPECT_EQ(calls("commitWrite"), commits + 1);
  EXPECT_GE(calls("readObject"), reads + 1);
  EXPECT_GT(value("zhsm_fuse_server_call_seconds_sum{op=\"commitWrite\"}"), 0);
}

TEST_F(PosixOps, Lseek) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "seek";
    std::string data = pattern_bytes(7, 1000);
    put(t, f, data);
    int fd = static_cast<int>(t.call("open O_RDWR", [&] { return ::open(f.c_str(), O_RDWR); }));
    t.call("lseek SET 10", [&] { return ::lseek(fd, 10, SEEK_SET); });
    char buf[200];
    long n = t.call("read 5", [&] { return ::read(fd, buf, 5); });
    t.note("data", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    t.call("lseek CUR +5", [&] { return ::lseek(fd, 5, SEEK_CUR); });
    t.call("lseek END -10", [&] { return ::lseek(fd, -10, SEEK_END); });
    n = t.call("read 100 near end", [&] { return ::read(fd, buf, 100); });
    t.note("data", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    t.call("lseek SET -1", [&] { return ::lseek(fd, -1, SEEK_SET); });
    t.call("lseek past end", [&] { return ::lseek(fd, 5000, SEEK_SET); });
    t.call("write at 5000", [&] { return ::write(fd, "x", 1); });
    t.call("lseek END 0", [&] { return ::lseek(fd, 0, SEEK_END); });
    t.note("gap", show(pread_text(fd, 4000, 1000)));
    t.call("close", [&] { return ::close(fd); });
    t.note("stat", stat_line(f));
    t.note("content", show(file_text(f)));
  });
}

TEST_F(PosixOps, PreadPwrite) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "pio";
    int fd = static_cast<int>(t.call("open O_CREAT|O_RDWR", [&] {
      return ::open(f.c_str(), O_CREAT | O_RDWR, 0644);
    }));
    t.call("pwrite abc at 0", [&] { return ::pwrite(fd, "abc", 3, 0); });
    t.call("pwrite def at 100000", [&] { return ::pwrite(fd, "def", 3, 100000); });
    t.call("pwrite XY at 1", [&] { return ::pwrite(fd, "XY", 2, 1); });
    t.call("offset unchanged", [&] { return ::lseek(fd, 0, SEEK_CUR); });
    t.note("pread 0..10", show(pread_text(fd, 10, 0)));
    t.note("pread 99998..", show(pread_text(fd, 10, 99998)));
    t.note("pread past end", show(pread_text(fd, 10, 200000)));
    struct stat st {};
    t.call("fstat", [&] { return ::fstat(fd, &st); });
    t.note("size", st.st_size);
    t.call("pwrite negative offset", [&] { return ::pwrite(fd, "z", 1, -1); });
    t.call("close", [&] { return ::close(fd); });
    t.note("content", show(file_text(f)));
  });
}

TEST_F(PosixOps, MknodRegularAndFifo) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "node";
    fs::path p = d / "fifo";
    t.call("mknod S_IFREG 0640", [&] { return ::mknod(f.c_str(), S_IFREG | 0640, 0); });
    t.note("stat", stat_line(f));
    t.call("mknod existing", [&] { return ::mknod(f.c_str(), S_IFREG | 0640, 0); });
    t.call("truncate 5", [&] { return ::truncate(f.c_str(), 5); });
    t.note("content", show(file_text(f)));
    t.call("mkfifo via mknod", [&] { return ::mknod(p.c_str(), S_IFIFO | 0600, 0); });
    t.note("stat", stat_line(p));
    // A fifo on the mount is a pipe: what goes in comes out.
    int fd = static_cast<int>(t.call("open fifo O_RDWR", [&] { return ::open(p.c_str(), O_RDWR); }));
    t.call("write fifo", [&] { return ::write(fd, "ping", 4); });
    char buf[8] = {};
    long n = t.call("read fifo", [&] { return ::read(fd, buf, sizeof buf); });
    t.note("fifo data", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    t.call("close", [&] { return ::close(fd); });
    t.call("unlink fifo", [&] { return ::unlink(p.c_str()); });
    t.note("stat after unlink", stat_line(p));
  });
}

TEST_F(PosixOps, MkdirRmdir) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path a = d / "a";
    struct stat before {}, after {};
    ::stat(d.c_str(), &before);
    t.call("mkdir a 0750", [&] { return ::mkdir(a.c_str(), 0750); });
    t.note("stat a", stat_line(a));
    ::stat(d.c_str(), &after);
    t.note("parent nlink grew by", static_cast<long long>(after.st_nlink) -
                                       static_cast<long long>(before.st_nlink));
    t.call("mkdir a/b", [&] { return ::mkdir((a / "b").c_str(), 0755); });
    t.call("mkdir a/b/c", [&] { return ::mkdir((a / "b" / "c").c_str(), 0700); });
    t.note("stat a/b/c", stat_line(a / "b" / "c"));
    t.note("stat a after subdir", stat_line(a));
    t.call("rmdir a/b/c", [&] { return ::rmdir((a / "b" / "c").c_str()); });
    t.call("rmdir a/b", [&] { return ::rmdir((a / "b").c_str()); });
    t.call("rmdir a", [&] { return ::rmdir(a.c_str()); });
    t.note("stat a after rmdir", stat_line(a));
    ::stat(d.c_str(), &after);
    t.note("parent nlink back by", static_cast<long long>(after.st_nlink) -
                                       static_cast<long long>(before.st_nlink));
    t.call("rmdir a again", [&] { return ::rmdir(a.c_str()); });
    t.call("rmdir .", [&] { return ::rmdir((d / ".").c_str()); });
  });
}

TEST_F(PosixOps, Unlink) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "gone";
    put(t, f, "short-lived");
    t.call("unlink", [&] { return ::unlink(f.c_str()); });
    t.note("stat", stat_line(f));
    t.call("open after unlink", [&] { return ::open(f.c_str(), O_RDONLY); });
    t.note("listed", static_cast<long long>(list_dir(d).count("gone")));
    // An open file that is unlinked stays readable through its descriptor.
    fs::path g = d / "open-unlinked";
    std::string data = pattern_bytes(3, 300000);
    put(t, g, data);
    int fd = static_cast<int>(t.call("open", [&] { return ::open(g.c_str(), O_RDWR); }));
    t.call("unlink while open", [&] { return ::unlink(g.c_str()); });
    t.note("read via fd", pread_text(fd, data.size() + 10, 0) == data ? "same" : "differs");
    struct stat st {};
    t.call("fstat", [&] { return ::fstat(fd, &st); });
    t.note("nlink", static_cast<long long>(st.st_nlink));
    t.call("write via fd", [&] { return ::pwrite(fd, "tail", 4, 300000); });
    t.note("read back", show(pread_text(fd, 4, 300000)));
    t.call("close", [&] { return ::close(fd); });
    t.note("stat", stat_line(g));
  });
}

TEST_F(PosixOps, Rename) {
  compare([](const fs::path& d, Transcript& t) {
    put(t, d / "a", "content of a");
    t.call("rename a b", [&] { return ::rename((d / "a").c_str(), (d / "b").c_str()); });
    t.note("stat a", stat_line(d / "a"));
    t.note("b", show(file_text(d / "b")));
    // Over an existing file: the target's content is replaced.
    put(t, d / "new", "new content");
    put(t, d / "old", "old content, longer than the new one");
    t.call("rename new over old", [&] { return ::rename((d / "new").c_str(), (d / "old").c_str()); });
    t.note("old", show(file_text(d / "old")));
    t.note("stat new", stat_line(d / "new"));
    // Across directories.
    ::mkdir((d / "x").c_str(), 0755);
    ::mkdir((d / "y").c_str(), 0755);
    t.call("rename b x/b", [&] { return ::rename((d / "b").c_str(), (d / "x" / "b").c_str()); });
    t.call("rename x/b y/c", [&] { return ::rename((d / "x" / "b").c_str(), (d / "y" / "c").c_str()); });
    t.note("y/c", show(file_text(d / "y" / "c")));
    t.note("x", std::to_string(list_dir(d / "x").size()));
    // A directory over an empty directory.
    ::mkdir((d / "full").c_str(), 0755);
    put(t, d / "full" / "inside", "inside");
    ::mkdir((d / "empty").c_str(), 0755);
    t.call("rename dir over empty dir",
           [&] { return ::rename((d / "full").c_str(), (d / "empty").c_str()); });
    t.note("empty/inside", show(file_text(d / "empty" / "inside")));
    t.note("stat full", stat_line(d / "full"));
    // Refused renames.
    ::mkdir((d / "other").c_str(), 0755);
    put(t, d / "other" / "f", "f");
    t.call("dir over non-empty dir",
           [&] { return ::rename((d / "empty").c_str(), (d / "other").c_str()); });
    t.call("file over dir", [&] { return ::rename((d / "old").c_str(), (d / "other").c_str()); });
    t.call("dir over file", [&] { return ::rename((d / "other").c_str(), (d / "old").c_str()); });
    t.call("dir into its own subdir",
           [&] { return ::rename((d / "other").c_str(), (d / "other" / "sub").c_str()); });
    t.call("missing source", [&] { return ::rename((d / "nope").c_str(), (d / "z").c_str()); });
    t.note("other/f", show(file_text(d / "other" / "f")));
    // renameat2 flags.
    put(t, d / "p", "p");
    put(t, d / "q", "q");
    t.call("RENAME_NOREPLACE onto existing", [&] {
      return ::renameat2(AT_FDCWD, (d / "p").c_str(), AT_FDCWD, (d / "q").c_str(), RENAME_NOREPLACE);
    });
    t.call("RENAME_NOREPLACE onto free name", [&] {
      return ::renameat2(AT_FDCWD, (d / "p").c_str(), AT_FDCWD, (d / "p2").c_str(), RENAME_NOREPLACE);
    });
    t.call("RENAME_EXCHANGE", [&] {
      return ::renameat2(AT_FDCWD, (d / "p2").c_str(), AT_FDCWD, (d / "q").c_str(), RENAME_EXCHANGE);
    });
    t.note("p2", show(file_text(d / "p2")));
    t.note("q", show(file_text(d / "q")));
    // A name onto another name of the same file is a no-op.
    ::link((d / "q").c_str(), (d / "q-link").c_str());
    t.call("rename onto own hard link", [&] { return ::rename((d / "q").c_str(), (d / "q-link").c_str()); });
    t.note("stat q", stat_line(d / "q"));
    auto names = list_dir(d);
    std::string listing;
    for (auto& [n, c] : names) listing += n + "x" + std::to_string(c) + " ";
    t.note("listing", listing);
  });
}

TEST_F(PosixOps, LinkCountsNames) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "f";
    fs::path g = d / "g";
    put(t, f, "shared");
    t.call("link f g", [&] { return ::link(f.c_str(), g.c_str()); });
    t.note("stat f", stat_line(f));
    t.note("stat g", stat_line(g));
    struct stat sf {}, sg {};
    ::stat(f.c_str(), &sf);
    ::stat(g.c_str(), &sg);
    t.note("same inode", sf.st_ino == sg.st_ino ? "yes" : "no");
    t.call("link f h", [&] { return ::link(f.c_str(), (d / "h").c_str()); });
    t.note("stat f", stat_line(f));
    int fd = ::open(g.c_str(), O_WRONLY | O_APPEND);
    t.call("append via g", [&] { return ::write(fd, "+more", 5); });
    t.call("close", [&] { return ::close(fd); });
    t.note("f", show(file_text(f)));
    t.call("unlink f", [&] { return ::unlink(f.c_str()); });
    t.note("stat g", stat_line(g));
    t.note("g", show(file_text(g)));
    t.call("unlink h", [&] { return ::unlink((d / "h").c_str()); });
    t.note("stat g", stat_line(g));
    t.call("link onto existing", [&] { return ::link(g.c_str(), g.c_str()); });
    ::mkdir((d / "dir").c_str(), 0755);
    t.call("link a directory", [&] { return ::link((d / "dir").c_str(), (d / "dir2").c_str()); });
    t.call("link missing", [&] { return ::link((d / "nope").c_str(), (d / "nope2").c_str()); });
  });
}

TEST_F(PosixOps, SymlinkReadlink) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path s = d / "s";
    t.call("symlink", [&] { return ::symlink("some/relative/target", s.c_str()); });
    char buf[256] = {};
    long n = t.call("readlink", [&] { return ::readlink(s.c_str(), buf, sizeof buf); });
    t.note("target", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    n = t.call("readlink short buffer", [&] { return ::readlink(s.c_str(), buf, 4); });
    t.note("truncated target", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    t.note("lstat", stat_line(s));
    t.note("stat (dangling)", stat_line(s, true));
    put(t, d / "real", "real data");
    t.call("symlink to file", [&] { return ::symlink("real", (d / "s2").c_str()); });
    t.note("through link", show(file_text(d / "s2")));
    t.note("stat via link", stat_line(d / "s2", true));
    std::string abs_target = (d / "real").string();
    t.call("symlink absolute", [&] { return ::symlink(abs_target.c_str(), (d / "s3").c_str()); });
    t.note("through absolute link", show(file_text(d / "s3")));
    t.call("symlink existing name", [&] { return ::symlink("x", s.c_str()); });
    t.call("readlink of a file", [&] { return ::readlink((d / "real").c_str(), buf, sizeof buf); });
    std::string long_target(4000, 'x');
    t.call("symlink 4000-byte target",
           [&] { return ::symlink(long_target.c_str(), (d / "long").c_str()); });
    t.note("lstat long", stat_line(d / "long"));
    t.call("unlink symlink", [&] { return ::unlink(s.c_str()); });
    t.note("lstat", stat_line(s));
  });
}

TEST_F(PosixOps, ReaddirListsEveryEntryOnce) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path dir = d / "many";
    ::mkdir(dir.c_str(), 0755);
    std::set<std::string> made;
    for (int i = 0; i < 300; ++i) {
      std::string name = "entry-" + std::to_string(i) + std::string(static_cast<size_t>(i % 40), 'n');
      fs::path p = dir / name;
      long r;
      if (i % 10 == 0) r = ::mkdir(p.c_str(), 0755);
      else if (i % 10 == 1) r = ::symlink("target", p.c_str());
      else r = ::mknod(p.c_str(), S_IFREG | 0644, 0);
      if (r == 0) made.insert(name);
    }
    t.note("created", static_cast<long long>(made.size()));
    std::string error;
    auto listed = list_dir(dir, &error);
    t.note("readdir error", error);
    int twice = 0, unknown = 0;
    for (auto& [name, count] : listed) {
      if (count != 1) ++twice;
      if (!made.count(name)) ++unknown;
    }
    size_t missing = 0;
    for (auto& name : made)
      if (!listed.count(name)) ++missing;
    t.note("listed", static_cast<long long>(listed.size()));
    t.note("listed more than once", twice);
    t.note("listed but never made", unknown);
    t.note("made but not listed", static_cast<long long>(missing));
    // d_type matches lstat, and "." / ".." come once each.
    DIR* dp = ::opendir(dir.c_str());
    int dots = 0, wrong_type = 0, wrong_ino = 0;
    while (dirent* e = dp ? ::readdir(dp) : nullptr) {
      std::string name = e->d_name;
      if (name == "." || name == "..") {
        ++dots;
        continue;
      }
      struct stat st {};
      ::lstat((dir / name).c_str(), &st);
      if (e->d_type != DT_UNKNOWN && DTTOIF(e->d_type) != static_cast<int>(st.st_mode & S_IFMT)) ++wrong_type;
      if (e->d_ino != st.st_ino) ++wrong_ino;
    }
    if (dp) ::closedir(dp);
    t.note("dot entries", dots);
    t.note("wrong d_type", wrong_type);
    t.note("d_ino differs from st_ino", wrong_ino);
  });
}

// Entries created or removed while a listing is under way may or may not show
// up, but every other entry comes exactly once.
TEST_F(PosixOps, ReaddirStableWhileEntriesChange) {
  fs::path dir = mount_dir_ / "changing";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << errno_text(errno);
  for (int i = 0; i < 400; ++i)
    ASSERT_EQ(::mknod((dir / ("f" + std::to_string(i))).c_str(), S_IFREG | 0644, 0), 0);
  DIR* dp = ::opendir(dir.c_str());
  ASSERT_NE(dp, nullptr);
  std::map<std::string, int> seen;
  std::set<std::string> touched;
  int read_so_far = 0;
  while (dirent* e = ::readdir(dp)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    ++seen[name];
    if (++read_so_far == 50) {
      for (int i = 0; i < 400; i += 7) {
        std::string victim = "f" + std::to_string(i);
        ::unlink((dir / victim).c_str());
        touched.insert(victim);
      }
      for (int i = 0; i < 100; ++i) {
        std::string added = "new" + std::to_string(i);
        ::mknod((dir / added).c_str(), S_IFREG | 0644, 0);
        touched.insert(added);
      }
    }
  }
  ::closedir(dp);
  for (int i = 0; i < 400; ++i) {
    std::string name = "f" + std::to_string(i);
    if (touched.count(name)) continue;
    EXPECT_EQ(seen[name], 1) << name << " was listed " << seen[name] << " times";
  }
  for (auto& [name, count] : seen) EXPECT_LE(count, 1) << name << " listed " << count << " times";
}

TEST_F(PosixOps, StatFields) {
  fs::path f = mount_dir_ / "f";
  int64_t before = now_ns();
  int fd = ::open(f.c_str(), O_CREAT | O_WRONLY, 0640);
  ASSERT_GE(fd, 0) << errno_text(errno);
  std::string data = pattern_bytes(5, 100000);
  ASSERT_EQ(write_all(fd, data), 100000);
  ASSERT_EQ(::close(fd), 0) << errno_text(errno);
  int64_t after = now_ns();
  struct stat st {};
  ASSERT_EQ(::stat(f.c_str(), &st), 0) << errno_text(errno);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_gid, ::getegid());
  EXPECT_EQ(st.st_size, 100000);
  EXPECT_GT(st.st_blksize, 0);
  EXPECT_GE(st.st_blocks * 512, st.st_size) << "st_blocks understates a file with no holes";
  EXPECT_NE(st.st_ino, 0u);
  const int64_t slack = 2'000'000'000;  // controller and kernel clocks, coarse timestamps
  EXPECT_GE(ns_of(st.st_mtim), before - slack);
  EXPECT_LE(ns_of(st.st_mtim), after + slack);
  EXPECT_GE(ns_of(st.st_ctim), before - slack);
  EXPECT_LE(ns_of(st.st_ctim), after + slack);
  EXPECT_GE(ns_of(st.st_atim), before - slack);
  EXPECT_LE(ns_of(st.st_atim), after + slack);
  // The inode number is stable and the same through every way of asking.
  struct stat again {}, via_fd {};
  ASSERT_EQ(::lstat(f.c_str(), &again), 0);
  fd = ::open(f.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fstat(fd, &via_fd), 0);
  ::close(fd);
  EXPECT_EQ(again.st_ino, st.st_ino);
  EXPECT_EQ(via_fd.st_ino, st.st_ino);
  EXPECT_EQ(via_fd.st_size, st.st_size);
  // Writing moves mtime forward from an old value; a directory's mtime moves when
  // an entry is added.
  timespec old[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), old, 0), 0) << errno_text(errno);
  ASSERT_EQ(::utimensat(AT_FDCWD, mount_dir_.c_str(), old, 0), 0) << errno_text(errno);
  fd = ::open(f.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "x", 1, 10), 1);
  ASSERT_EQ(::close(fd), 0);
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_GE(ns_of(st.st_mtim), before - slack) << "a write did not update mtime";
  ASSERT_EQ(::mknod((mount_dir_ / "g").c_str(), S_IFREG | 0644, 0), 0);
  struct stat dst {};
  ASSERT_EQ(::stat(mount_dir_.c_str(), &dst), 0);
  EXPECT_GE(ns_of(dst.st_mtim), before - slack) << "creating an entry did not update the directory's mtime";
  EXPECT_TRUE(S_ISDIR(dst.st_mode));
}

TEST_F(PosixOps, Chmod) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "f";
    put(t, f, "mode bits");
    for (mode_t m : {0751, 0600, 0000, 04755, 02750, 01777, 0644}) {
      char what[32];
      std::snprintf(what, sizeof what, "chmod 0%o", m);
      t.call(what, [&] { return ::chmod(f.c_str(), m); });
      t.note("stat", stat_line(f));
    }
    int fd = ::open(f.c_str(), O_RDONLY);
    t.call("fchmod 0700", [&] { return ::fchmod(fd, 0700); });
    ::close(fd);
    t.note("stat", stat_line(f));
    ::mkdir((d / "dir").c_str(), 0755);
    t.call("chmod dir 0711", [&] { return ::chmod((d / "dir").c_str(), 0711); });
    t.note("stat dir", stat_line(d / "dir"));
    t.call("chmod missing", [&] { return ::chmod((d / "nope").c_str(), 0644); });
  });
}

TEST_F(PosixOps, ChownAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to other users needs root";
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "f";
    put(t, f, "owned");
    t.call("chown 1234:5678", [&] { return ::chown(f.c_str(), 1234, 5678); });
    t.note("stat", stat_line(f));
    t.call("chown -1:42", [&] { return ::chown(f.c_str(), static_cast<uid_t>(-1), 42); });
    t.note("stat", stat_line(f));
    t.call("chown 77:-1", [&] { return ::chown(f.c_str(), 77, static_cast<gid_t>(-1)); });
    t.note("stat", stat_line(f));
    // Changing the owner of a set-uid executable clears the set-uid bit.
    t.call("chmod 06755", [&] { return ::chmod(f.c_str(), 06755); });
    t.call("chown 0:0", [&] { return ::chown(f.c_str(), 0, 0); });
    t.note("stat", stat_line(f));
    ::symlink("f", (d / "l").c_str());
    t.call("lchown link 9:9", [&] { return ::lchown((d / "l").c_str(), 9, 9); });
    t.note("stat link", stat_line(d / "l"));
    t.note("stat target", stat_line(f));
    int fd = ::open(f.c_str(), O_RDONLY);
    t.call("fchown 500:501", [&] { return ::fchown(fd, 500, 501); });
    ::close(fd);
    t.note("stat", stat_line(f));
    ::mkdir((d / "dir").c_str(), 0755);
    t.call("chown dir 65534:65534", [&] { return ::chown((d / "dir").c_str(), 65534, 65534); });
    t.note("stat dir", stat_line(d / "dir"));
  });
}

TEST_F(PosixOps, TruncateShrinkAndGrow) {
  compare([](const fs::path& d, Transcript& t) {
    // Inline-sized file.
    fs::path s = d / "small";
    put(t, s, "0123456789");
    t.call("truncate 4", [&] { return ::truncate(s.c_str(), 4); });
    t.note("small", show(file_text(s)));
    t.call("truncate 8", [&] { return ::truncate(s.c_str(), 8); });
    t.note("small", show(file_text(s)));
    // Chunked file: the cut bytes read as zeros after growing again.
    fs::path b = d / "big";
    put(t, b, pattern_bytes(11, 200 * 1024));
    t.call("truncate 100K+3", [&] { return ::truncate(b.c_str(), 100 * 1024 + 3); });
    t.note("stat", stat_line(b));
    t.call("truncate 300K", [&] { return ::truncate(b.c_str(), 300 * 1024); });
    std::string back = file_text(b);
    t.note("big", show(back));
    t.note("head", back.substr(0, 100 * 1024 + 3) == pattern_bytes(11, 200 * 1024).substr(0, 100 * 1024 + 3)
                       ? "kept"
                       : "changed");
    t.note("tail", show(back.substr(std::min(back.size(), size_t{100 * 1024 + 3}))));
    // Across a chunk boundary (16 MiB).
    fs::path c = d / "chunks";
    put(t, c, pattern_bytes(12, 17 * kMiB));
    t.call("truncate 15M", [&] { return ::truncate(c.c_str(), 15 * kMiB); });
    t.call("truncate 17M", [&] { return ::truncate(c.c_str(), 17 * kMiB); });
    std::string cb = file_text(c);
    t.note("chunks", show(cb));
    t.note("past cut", show(cb.substr(std::min(cb.size(), size_t(15 * kMiB)))));
    // ftruncate through an open descriptor with unflushed writes.
    fs::path o = d / "open";
    int fd = static_cast<int>(t.call("open", [&] { return ::open(o.c_str(), O_CREAT | O_RDWR, 0644); }));
    t.call("write 50K", [&] { return write_all(fd, pattern_bytes(13, 50 * 1024)); });
    t.call("ftruncate 10", [&] { return ::ftruncate(fd, 10); });
    t.call("pwrite at 20", [&] { return ::pwrite(fd, "x", 1, 20); });
    t.note("read via fd", show(pread_text(fd, 100, 0)));
    t.call("close", [&] { return ::close(fd); });
    t.note("open", show(file_text(o)));
    // O_TRUNC.
    fd = static_cast<int>(t.call("open O_TRUNC", [&] { return ::open(b.c_str(), O_WRONLY | O_TRUNC); }));
    t.call("close", [&] { return ::close(fd); });
    t.note("stat", stat_line(b));
    t.call("truncate -1", [&] { return ::truncate(b.c_str(), -1); });
  });
}

TEST_F(PosixOps, Utimensat) {
  fs::path f = mount_dir_ / "times";
  ASSERT_TRUE(write_file(f, "t"));
  struct stat st {};
  // Explicit times, to the nanosecond.
  timespec explicit_times[2] = {{1'000'000'000, 123'456'789}, {1'200'000'000, 987'654'321}};
  ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), explicit_times, 0), 0) << errno_text(errno);
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1'000'000'000);
  EXPECT_EQ(st.st_atim.tv_nsec, 123'456'789);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'200'000'000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987'654'321);
  // UTIME_NOW for both.
  int64_t before = now_ns();
  timespec now_times[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), now_times, 0), 0) << errno_text(errno);
  int64_t after = now_ns();
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  const int64_t slack = 2'000'000'000;
  EXPECT_GE(ns_of(st.st_atim), before - slack);
  EXPECT_LE(ns_of(st.st_atim), after + slack);
  EXPECT_GE(ns_of(st.st_mtim), before - slack);
  EXPECT_LE(ns_of(st.st_mtim), after + slack);
  EXPECT_GE(ns_of(st.st_ctim), before - slack) << "changing times must update ctime";
  // UTIME_OMIT keeps one and sets the other.
  timespec set_both[2] = {{1'100'000'000, 5}, {1'100'000'000, 6}};
  ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), set_both, 0), 0);
  timespec omit_atime[2] = {{0, UTIME_OMIT}, {1'300'000'000, 7}};
  ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), omit_atime, 0), 0) << errno_text(errno);
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(ns_of(st.st_atim), 1'100'000'000LL * 1'000'000'000 + 5) << "UTIME_OMIT changed atime";
  EXPECT_EQ(ns_of(st.st_mtim), 1'300'000'000LL * 1'000'000'000 + 7);
  timespec omit_mtime[2] = {{1'400'000'000, 8}, {0, UTIME_OMIT}};
  ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), omit_mtime, 0), 0) << errno_text(errno);
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(ns_of(st.st_atim), 1'400'000'000LL * 1'000'000'000 + 8);
  EXPECT_EQ(ns_of(st.st_mtim), 1'300'000'000LL * 1'000'000'000 + 7) << "UTIME_OMIT changed mtime";
  // futimens through a descriptor, and times before 1970.
  int fd = ::open(f.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  timespec negative[2] = {{-100, 0}, {-200, 500}};
  EXPECT_EQ(::futimens(fd, negative), 0) << errno_text(errno);
  ::close(fd);
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, -100);
  EXPECT_EQ(st.st_mtim.tv_sec, -200);
  EXPECT_EQ(st.st_mtim.tv_nsec, 500);
  // A symlink's own times, without following it.
  fs::path l = mount_dir_ / "link";
  ASSERT_EQ(::symlink("times", l.c_str()), 0);
  timespec link_times[2] = {{1'500'000'000, 0}, {1'500'000'001, 0}};
  EXPECT_EQ(::utimensat(AT_FDCWD, l.c_str(), link_times, AT_SYMLINK_NOFOLLOW), 0) << errno_text(errno);
  ASSERT_EQ(::lstat(l.c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'500'000'001);
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, -200) << "the target's times changed";
  // The same calls on a native file give the same errors for bad arguments.
  compare([](const fs::path& d, Transcript& t) {
    fs::path g = d / "g";
    put(t, g, "g");
    timespec bad[2] = {{0, 1'000'000'000}, {0, 0}};
    t.call("utimensat tv_nsec out of range", [&] { return ::utimensat(AT_FDCWD, g.c_str(), bad, 0); });
    t.call("utimensat missing", [&] { return ::utimensat(AT_FDCWD, (d / "nope").c_str(), nullptr, 0); });
  });
}

TEST_F(PosixOps, Statfs) {
  struct statvfs sv {};
  ASSERT_EQ(::statvfs(cluster().mount().c_str(), &sv), 0) << errno_text(errno);
  EXPECT_GT(sv.f_blocks, 0u);
  EXPECT_GT(sv.f_bsize, 0u);
  EXPECT_GT(sv.f_frsize, 0u);
  EXPECT_LE(sv.f_bfree, sv.f_blocks);
  EXPECT_LE(sv.f_bavail, sv.f_bfree);
  EXPECT_EQ(sv.f_namemax, 255u) << "names up to 255 bytes are accepted, 256 refused";
  struct statvfs sub {};
  ASSERT_EQ(::statvfs(mount_dir_.c_str(), &sub), 0);
  EXPECT_EQ(sub.f_blocks, sv.f_blocks);
}

TEST_F(PosixOps, Xattrs) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "f";
    put(t, f, "x");
    const char* p = f.c_str();
    t.call("set user.color", [&] { return ::setxattr(p, "user.color", "blue", 4, 0); });
    t.call("size query", [&] { return ::getxattr(p, "user.color", nullptr, 0); });
    char buf[8192] = {};
    long n = t.call("get", [&] { return ::getxattr(p, "user.color", buf, sizeof buf); });
    t.note("value", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    t.call("XATTR_CREATE on existing", [&] { return ::setxattr(p, "user.color", "red", 3, XATTR_CREATE); });
    t.call("XATTR_REPLACE on absent", [&] { return ::setxattr(p, "user.none", "v", 1, XATTR_REPLACE); });
    t.call("XATTR_REPLACE on existing", [&] { return ::setxattr(p, "user.color", "green", 5, XATTR_REPLACE); });
    t.call("XATTR_CREATE on absent", [&] { return ::setxattr(p, "user.second", "2", 1, XATTR_CREATE); });
    n = t.call("get after replace", [&] { return ::getxattr(p, "user.color", buf, sizeof buf); });
    t.note("value", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    t.call("get into a small buffer", [&] { return ::getxattr(p, "user.color", buf, 2); });
    std::string binary("a\0b\0\xff", 5);
    t.call("set binary", [&] { return ::setxattr(p, "user.bin", binary.data(), binary.size(), 0); });
    n = t.call("get binary", [&] { return ::getxattr(p, "user.bin", buf, sizeof buf); });
    t.note("binary", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
    t.call("set empty", [&] { return ::setxattr(p, "user.empty", "", 0, 0); });
    t.call("get empty", [&] { return ::getxattr(p, "user.empty", buf, sizeof buf); });
    std::string large = pattern_bytes(21, 4000);
    t.call("set 4000 bytes", [&] { return ::setxattr(p, "user.large", large.data(), large.size(), 0); });
    n = t.call("get 4000 bytes", [&] { return ::getxattr(p, "user.large", buf, sizeof buf); });
    t.note("large equal", n == 4000 && std::memcmp(buf, large.data(), 4000) == 0 ? "yes" : "no");
    // listxattr: names of the user namespace, sorted (a native filesystem may add others).
    long size = ::listxattr(p, nullptr, 0);
    std::string names(static_cast<size_t>(std::max(0L, size)), '\0');
    long got = ::listxattr(p, names.data(), names.size());
    std::vector<std::string> user_names;
    for (size_t i = 0; got > 0 && i < static_cast<size_t>(got);) {
      std::string name(names.data() + i);
      if (name.rfind("user.", 0) == 0) user_names.push_back(name);
      i += name.size() + 1;
    }
    std::sort(user_names.begin(), user_names.end());
    std::string joined;
    for (auto& nm : user_names) joined += nm + " ";
    t.note("list", joined);
    t.call("list into a small buffer", [&] { return ::listxattr(p, buf, 3); });
    t.call("remove", [&] { return ::removexattr(p, "user.color"); });
    t.call("get removed", [&] { return ::getxattr(p, "user.color", buf, sizeof buf); });
    t.call("remove absent", [&] { return ::removexattr(p, "user.color"); });
    t.call("get absent", [&] { return ::getxattr(p, "user.never", buf, sizeof buf); });
    // Directories carry xattrs too.
    ::mkdir((d / "dir").c_str(), 0755);
    t.call("set on dir", [&] { return ::setxattr((d / "dir").c_str(), "user.d", "dv", 2, 0); });
    n = t.call("get on dir", [&] { return ::getxattr((d / "dir").c_str(), "user.d", buf, sizeof buf); });
    t.note("dir value", show(std::string(buf, static_cast<size_t>(std::max(0L, n)))));
  });
}

TEST_F(PosixOps, AppendFromTwoDescriptors) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "log";
    put(t, f, "start\n");
    int a = static_cast<int>(t.call("open A O_APPEND", [&] { return ::open(f.c_str(), O_WRONLY | O_APPEND); }));
    int b = static_cast<int>(t.call("open B O_APPEND", [&] { return ::open(f.c_str(), O_WRONLY | O_APPEND); }));
    for (int i = 0; i < 10; ++i) {
      std::string la = "A" + std::to_string(i) + "\n";
      std::string lb = "B" + std::to_string(i) + "\n";
      t.call("write A", [&] { return write_all(a, la); });
      t.call("write B", [&] { return write_all(b, lb); });
    }
    // An O_APPEND write goes to the end whatever the offset was set to.
    t.call("lseek A 0", [&] { return ::lseek(a, 0, SEEK_SET); });
    t.call("write A at end", [&] { return write_all(a, "tail\n"); });
    t.call("close A", [&] { return ::close(a); });
    t.call("close B", [&] { return ::close(b); });
    std::string content = file_text(f);
    t.note("content", show(content));
    t.note("stat", stat_line(f));
    // Growing past the inline limit while appending.
    int c = ::open(f.c_str(), O_WRONLY | O_APPEND);
    int e = ::open(f.c_str(), O_WRONLY | O_APPEND);
    t.call("append 70000 via C", [&] { return write_all(c, pattern_bytes(31, 70000)); });
    t.call("append 10 via E", [&] { return write_all(e, "0123456789"); });
    t.call("close C", [&] { return ::close(c); });
    t.call("close E", [&] { return ::close(e); });
    std::string grown = file_text(f);
    t.note("grown", show(grown));
    t.note("ends with", show(grown.substr(grown.size() >= 10 ? grown.size() - 10 : 0)));
  });
}

TEST_F(PosixOps, SparseFile) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "sparse";
    const off_t at = 100 * kMiB;
    int fd = static_cast<int>(t.call("open", [&] { return ::open(f.c_str(), O_CREAT | O_RDWR, 0644); }));
    t.call("pwrite END at 100 MiB", [&] { return ::pwrite(fd, "END", 3, at); });
    struct stat st {};
    t.call("fstat", [&] { return ::fstat(fd, &st); });
    t.note("size", st.st_size);
    t.call("close", [&] { return ::close(fd); });
    fd = static_cast<int>(t.call("open O_RDONLY", [&] { return ::open(f.c_str(), O_RDONLY); }));
    t.note("at 0", show(pread_text(fd, kMiB, 0)));
    t.note("across 16 MiB", show(pread_text(fd, 4096, 16 * kMiB - 2048)));
    t.note("at 50 MiB", show(pread_text(fd, kMiB, 50 * kMiB)));
    t.note("just before", show(pread_text(fd, 4096, at - 4096)));
    t.note("the end", show(pread_text(fd, 16, at - 5)));
    t.call("close", [&] { return ::close(fd); });
    t.note("stat", stat_line(f));
  });
}

TEST_F(PosixOps, FileOver4GiB) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "huge";
    const off_t at = 5LL << 30;
    int fd = static_cast<int>(t.call("open", [&] { return ::open(f.c_str(), O_CREAT | O_RDWR, 0644); }));
    t.call("pwrite at 5 GiB", [&] { return ::pwrite(fd, "past-4GiB", 9, at); });
    t.call("close", [&] { return ::close(fd); });
    t.note("stat", stat_line(f));
    fd = static_cast<int>(t.call("open O_RDONLY", [&] { return ::open(f.c_str(), O_RDONLY); }));
    t.note("read back", show(pread_text(fd, 100, at)));
    t.note("at 4 GiB", show(pread_text(fd, 16, (4LL << 30) - 8)));
    t.call("lseek END", [&] { return ::lseek(fd, 0, SEEK_END); });
    t.call("close", [&] { return ::close(fd); });
    t.call("truncate to 4 GiB + 1", [&] { return ::truncate(f.c_str(), (4LL << 30) + 1); });
    t.note("stat", stat_line(f));
    t.call("unlink", [&] { return ::unlink(f.c_str()); });
  });
}

}  // namespace
}  // namespace zhsm::test
