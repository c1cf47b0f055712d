// The errors the mount reports, through ordinary syscalls: each case runs on the
// zhsm mount and on a native directory, must give the same errno on both, and
// that errno must be the one POSIX/Linux names for it. Permission errors are
// checked as another user (uid/gid 65534) in a forked child that reports the
// errno of each step through a pipe.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

class PosixErrors : public MountTest {};

// Runs `fn` and expects it to fail with `err`; records the outcome either way.
void expect_errno(Transcript& t, const std::string& what, int err, const std::function<long()>& fn) {
  long r = t.call(what, fn);
  EXPECT_EQ(r, -1) << what << " succeeded";
  if (r == -1) {
    EXPECT_EQ(t.lines().back(), what + " -> {ret=-1 errno=" + ::strerrorname_np(err) + "}");
  }
}

void make_file(const fs::path& p, mode_t mode = 0644) {
  int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, mode);
  ASSERT_GE(fd, 0) << p << ": " << errno_text(errno);
  ASSERT_EQ(::write(fd, "data", 4), 4);
  ASSERT_EQ(::close(fd), 0);
}

TEST_F(PosixErrors, NotFound) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path m = d / "missing";
    expect_errno(t, "open missing", ENOENT, [&] { return ::open(m.c_str(), O_RDONLY); });
    expect_errno(t, "unlink missing", ENOENT, [&] { return ::unlink(m.c_str()); });
    struct stat st {};
    expect_errno(t, "stat missing", ENOENT, [&] { return ::stat(m.c_str(), &st); });
    expect_errno(t, "rmdir missing", ENOENT, [&] { return ::rmdir(m.c_str()); });
    expect_errno(t, "create below missing dir", ENOENT,
                 [&] { return ::open((m / "f").c_str(), O_CREAT | O_WRONLY, 0644); });
    expect_errno(t, "mkdir below missing dir", ENOENT, [&] { return ::mkdir((m / "d").c_str(), 0755); });
    expect_errno(t, "rename missing", ENOENT, [&] { return ::rename(m.c_str(), (d / "x").c_str()); });
    char buf[64];
    expect_errno(t, "readlink missing", ENOENT, [&] { return ::readlink(m.c_str(), buf, sizeof buf); });
    expect_errno(t, "chmod missing", ENOENT, [&] { return ::chmod(m.c_str(), 0644); });
    expect_errno(t, "truncate missing", ENOENT, [&] { return ::truncate(m.c_str(), 0); });
  });
}

TEST_F(PosixErrors, Exists) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "f";
    fs::path dir = d / "dir";
    make_file(f);
    ::mkdir(dir.c_str(), 0755);
    expect_errno(t, "mkdir existing dir", EEXIST, [&] { return ::mkdir(dir.c_str(), 0755); });
    expect_errno(t, "mkdir over file", EEXIST, [&] { return ::mkdir(f.c_str(), 0755); });
    expect_errno(t, "O_CREAT|O_EXCL existing", EEXIST,
                 [&] { return ::open(f.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644); });
    expect_errno(t, "O_CREAT|O_EXCL on dir", EEXIST,
                 [&] { return ::open(dir.c_str(), O_CREAT | O_EXCL | O_RDONLY, 0644); });
    expect_errno(t, "symlink over existing", EEXIST, [&] { return ::symlink("t", f.c_str()); });
    expect_errno(t, "link over existing", EEXIST, [&] { return ::link(f.c_str(), f.c_str()); });
    expect_errno(t, "mknod over existing", EEXIST, [&] { return ::mknod(f.c_str(), S_IFREG | 0644, 0); });
    t.note("content kept", file_text(f));
  });
}

TEST_F(PosixErrors, NotEmpty) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path dir = d / "dir";
    ::mkdir(dir.c_str(), 0755);
    make_file(dir / "f");
    expect_errno(t, "rmdir with a file", ENOTEMPTY, [&] { return ::rmdir(dir.c_str()); });
    ::unlink((dir / "f").c_str());
    ::mkdir((dir / "sub").c_str(), 0755);
    expect_errno(t, "rmdir with a subdir", ENOTEMPTY, [&] { return ::rmdir(dir.c_str()); });
    ::rmdir((dir / "sub").c_str());
    t.call("rmdir once empty", [&] { return ::rmdir(dir.c_str()); });
  });
}

TEST_F(PosixErrors, NotDir) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path f = d / "file";
    make_file(f);
    expect_errno(t, "open through a file", ENOTDIR, [&] { return ::open((f / "x").c_str(), O_RDONLY); });
    expect_errno(t, "create through a file", ENOTDIR,
                 [&] { return ::open((f / "x").c_str(), O_CREAT | O_WRONLY, 0644); });
    expect_errno(t, "mkdir through a file", ENOTDIR, [&] { return ::mkdir((f / "x").c_str(), 0755); });
    struct stat st {};
    expect_errno(t, "stat through a file", ENOTDIR, [&] { return ::stat((f / "x").c_str(), &st); });
    expect_errno(t, "rmdir a file", ENOTDIR, [&] { return ::rmdir(f.c_str()); });
    expect_errno(t, "O_DIRECTORY on a file", ENOTDIR, [&] { return ::open(f.c_str(), O_RDONLY | O_DIRECTORY); });
    expect_errno(t, "trailing slash on a file", ENOTDIR, [&] { return ::stat((f.string() + "/").c_str(), &st); });
  });
}

TEST_F(PosixErrors, IsDir) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path dir = d / "dir";
    ::mkdir(dir.c_str(), 0755);
    expect_errno(t, "open dir O_WRONLY", EISDIR, [&] { return ::open(dir.c_str(), O_WRONLY); });
    expect_errno(t, "open dir O_RDWR", EISDIR, [&] { return ::open(dir.c_str(), O_RDWR); });
    expect_errno(t, "unlink a dir", EISDIR, [&] { return ::unlink(dir.c_str()); });
    expect_errno(t, "truncate a dir", EISDIR, [&] { return ::truncate(dir.c_str(), 0); });
    int fd = static_cast<int>(t.call("open dir O_RDONLY", [&] { return ::open(dir.c_str(), O_RDONLY); }));
    char buf[16];
    expect_errno(t, "read a dir", EISDIR, [&] { return ::read(fd, buf, sizeof buf); });
    ::close(fd);
  });
}

TEST_F(PosixErrors, NameTooLong) {
  compare([](const fs::path& d, Transcript& t) {
    std::string name255(255, 'a');
    std::string name256(256, 'b');
    fs::path ok = d / name255;
    fs::path bad = d / name256;
    expect_errno(t, "create 256-byte name", ENAMETOOLONG,
                 [&] { return ::open(bad.c_str(), O_CREAT | O_WRONLY, 0644); });
    expect_errno(t, "mkdir 256-byte name", ENAMETOOLONG, [&] { return ::mkdir(bad.c_str(), 0755); });
    struct stat st {};
    expect_errno(t, "stat 256-byte name", ENAMETOOLONG, [&] { return ::stat(bad.c_str(), &st); });
    expect_errno(t, "symlink 256-byte name", ENAMETOOLONG, [&] { return ::symlink("t", bad.c_str()); });
    int fd = static_cast<int>(t.call("create 255-byte name", [&] {
      return ::open(ok.c_str(), O_CREAT | O_WRONLY, 0644);
    }));
    t.call("write", [&] { return ::write(fd, "long", 4); });
    t.call("close", [&] { return ::close(fd); });
    t.note("stat 255", stat_line(ok));
    t.note("listed 255", static_cast<long long>(list_dir(d).count(name255)));
    t.note("content", file_text(ok));
    expect_errno(t, "rename to 256-byte name", ENAMETOOLONG, [&] { return ::rename(ok.c_str(), bad.c_str()); });
    expect_errno(t, "link to 256-byte name", ENAMETOOLONG, [&] { return ::link(ok.c_str(), bad.c_str()); });
    t.call("unlink 255", [&] { return ::unlink(ok.c_str()); });
    t.call("mkdir 255", [&] { return ::mkdir(ok.c_str(), 0755); });
    t.call("rmdir 255", [&] { return ::rmdir(ok.c_str()); });
  });
}

TEST_F(PosixErrors, SymlinkLoop) {
  compare([](const fs::path& d, Transcript& t) {
    ::symlink("b", (d / "a").c_str());
    ::symlink("a", (d / "b").c_str());
    expect_errno(t, "open a loop", ELOOP, [&] { return ::open((d / "a").c_str(), O_RDONLY); });
    expect_errno(t, "O_NOFOLLOW on a symlink", ELOOP,
                 [&] { return ::open((d / "a").c_str(), O_RDONLY | O_NOFOLLOW); });
  });
}

// One step the unprivileged child takes, and the errno it expects.
struct Step {
  std::string what;
  int expect;  // 0: must succeed
  std::function<long()> fn;
};

// Runs the steps as uid/gid 65534 in a forked child; returns each step's errno.
std::vector<int> run_as_nobody(const std::vector<Step>& steps) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    for (const auto& s : steps) {
      errno = 0;
      long r = s.fn();
      int err = r < 0 ? errno : 0;
      if (r >= 0 && s.what.rfind("open", 0) == 0) ::close(static_cast<int>(r));
      if (::write(fds[1], &err, sizeof err) != sizeof err) ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::vector<int> errs;
  int err = 0;
  while (::read(fds[0], &err, sizeof err) == sizeof err) errs.push_back(err);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the unprivileged child failed (status " << status << ")";
  return errs;
}

TEST_F(PosixErrors, PermissionDeniedForOtherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  struct stat root_st {};
  ASSERT_EQ(::stat(cluster().mount().c_str(), &root_st), 0);
  ASSERT_TRUE(root_st.st_mode & S_IXOTH)
      << "the mount's root directory (mode 0" << std::oct << (root_st.st_mode & 07777)
      << ") cannot be searched by other users";
  for (const fs::path& d : {mount_dir_, native_dir_}) {
    make_file(d / "secret", 0600);
    make_file(d / "public", 0644);
    ASSERT_EQ(::mkdir((d / "rootdir").c_str(), 0755), 0);
    make_file(d / "rootdir" / "inside", 0644);
    ASSERT_EQ(::mkdir((d / "private").c_str(), 0700), 0);
    make_file(d / "private" / "hidden", 0644);
    ASSERT_EQ(::chmod(d.c_str(), 0755), 0);
  }
  auto steps_for = [](const fs::path& d) {
    std::vector<Step> s;
    s.push_back({"open 0600 root file", EACCES, [d] { return ::open((d / "secret").c_str(), O_RDONLY); }});
    s.push_back({"create in 0755 root dir", EACCES,
                 [d] { return ::open((d / "rootdir" / "new").c_str(), O_CREAT | O_WRONLY, 0644); }});
    s.push_back({"mkdir in 0755 root dir", EACCES, [d] { return ::mkdir((d / "rootdir" / "sub").c_str(), 0755); }});
    s.push_back({"unlink in 0755 root dir", EACCES, [d] { return ::unlink((d / "rootdir" / "inside").c_str()); }});
    s.push_back({"open 0644 root file for writing", EACCES,
                 [d] { return ::open((d / "public").c_str(), O_WRONLY); }});
    s.push_back({"chmod a root file", EPERM, [d] { return ::chmod((d / "public").c_str(), 0666); }});
    s.push_back({"search a 0700 root dir", EACCES,
                 [d] { return ::open((d / "private" / "hidden").c_str(), O_RDONLY); }});
    // Controls: what the other user may do works, so the refusals above mean something.
    s.push_back({"open 0644 root file", 0, [d] { return ::open((d / "public").c_str(), O_RDONLY); }});
    s.push_back({"stat 0600 root file", 0, [d] {
                   struct stat st {};
                   return static_cast<long>(::stat((d / "secret").c_str(), &st));
                 }});
    return s;
  };
  auto on_mount = steps_for(mount_dir_);
  auto zerrs = run_as_nobody(on_mount);
  auto nerrs = run_as_nobody(steps_for(native_dir_));
  ASSERT_EQ(zerrs.size(), on_mount.size());
  ASSERT_EQ(nerrs.size(), on_mount.size());
  for (size_t i = 0; i < on_mount.size(); ++i) {
    EXPECT_EQ(errno_text(zerrs[i]), errno_text(on_mount[i].expect)) << "mount: " << on_mount[i].what;
    EXPECT_EQ(errno_text(zerrs[i]), errno_text(nerrs[i])) << "mount vs native: " << on_mount[i].what;
  }
  // Nothing the refused calls tried happened.
  struct stat st {};
  EXPECT_NE(::stat((mount_dir_ / "rootdir" / "new").c_str(), &st), 0);
  EXPECT_EQ(::stat((mount_dir_ / "rootdir" / "inside").c_str(), &st), 0);
  EXPECT_EQ(::stat((mount_dir_ / "public").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

}  // namespace
}  // namespace zhsm::test
