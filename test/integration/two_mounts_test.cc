// Two client mounts of the same cluster (the main one and one added with
// `zhsm-cluster mount`): what one mount creates, writes (once closed), renames,
// changes or deletes, the other sees. Attribute and entry caches may hold old
// answers for about a second, so the second mount is polled with a bound.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <functional>

#include "test/integration/as_user.h"
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

// A create that made its file knows so (the parent among the answer's touched
// directories; HandlerTest.CreateTouchesTheParentOnlyWhenItMadeTheFile), with or without
// O_EXCL: the kernel's question for security.capability before each write is then
// answered without asking the controller. What the other mount sets shows all the same.
TEST_F(TwoMounts, WritesToAFileJustMadeAskNoXattrs) {
  const Cluster& c = Cluster::get();
  const std::string asked = "zhsm_fuse_controller_calls_total{op=\"getxattr\"}";
  auto calls = [&] { return std::max(0.0, c.metric("fuse-mnt", asked)); };
  const double before = calls();
  int fd = ::open((a_ / "made").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0) << errno_text(errno);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(write_all(fd, "data"), 4);
  ASSERT_EQ(::close(fd), 0) << errno_text(errno);
  EXPECT_EQ(calls(), before) << "writes to a file this mount just made asked for its xattrs";
  EXPECT_EQ(file_text(a_ / "made"), "datadatadata");

  ASSERT_TRUE(eventually([&] { return present(b_ / "made"); }, kVisible));
  ASSERT_EQ(::setxattr((b_ / "made").c_str(), "user.k", "v", 1, 0), 0) << errno_text(errno);
  char buf[16];
  EXPECT_TRUE(eventually([&] {
    return ::getxattr((a_ / "made").c_str(), "user.k", buf, sizeof buf) == 1 && buf[0] == 'v';
  }, kVisible)) << "the other mount's setxattr never showed";
}

// A change of mode or explicit times to a file with writes not yet committed waits for
// their commit and goes in its call (OpenInode::hold_attr): what cp -a and tar x do
// before each close costs no call of its own. This mount shows the change at once and the
// controller's own checks see it before an open; the other mount sees it with the data.
TEST_F(TwoMounts, ModeAndTimesOfUnwrittenDataTravelWithTheirCommit) {
  const Cluster& c = Cluster::get();
  auto calls = [&](const char* op) {
    return std::max(0.0, c.metric("fuse-mnt", std::string("zhsm_fuse_controller_calls_total{op=\"") +
                                                  op + "\"}"));
  };
  const std::filesystem::path f = a_ / "held";
  int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0) << errno_text(errno);
  ASSERT_EQ(write_all(fd, "held"), 4);
  const double setattrs = calls("setattr"), commits = calls("commitData");
  const timespec ts[2] = {{1500000000, 11}, {1600000000, 22}};
  ASSERT_EQ(::futimens(fd, ts), 0) << errno_text(errno);
  ASSERT_EQ(::fchmod(fd, 0644), 0) << errno_text(errno);
  EXPECT_EQ(calls("setattr"), setattrs) << "a change of an unwritten file sent a setattr";
  EXPECT_EQ(calls("commitData"), commits) << "a change of an unwritten file committed it";
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 22);
  EXPECT_EQ(st.st_atim.tv_sec, 1500000000);
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u) << "the path shows another mode than the descriptor";

  // fsync makes data and change durable together, and the other mount sees both.
  ASSERT_EQ(::fsync(fd), 0) << errno_text(errno);
  EXPECT_EQ(calls("commitData"), commits + 1);
  EXPECT_EQ(calls("setattr"), setattrs) << "the held change went in a call of its own";
  EXPECT_TRUE(eventually([&] {
    struct stat b {};
    return ::stat((b_ / "held").c_str(), &b) == 0 && (b.st_mode & 07777) == 0644 &&
           b.st_mtim.tv_sec == 1600000000 && b.st_mtim.tv_nsec == 22 && b.st_size == 4;
  }, kVisible)) << "the other mount never saw the data with its mode and times";

  // A mode that lets another user read, held: the controller sees it before that user's
  // open on this mount (which the kernel allows from the mode it was shown).
  ASSERT_EQ(write_all(fd, " more"), 5);
  ASSERT_EQ(::fchmod(fd, 0604), 0) << errno_text(errno);
  Outcome opened = as_user(nobody(), [&]() -> long {
    int r = ::open(f.c_str(), O_RDONLY);
    if (r >= 0) ::close(r);
    return r < 0 ? -1 : 0;
  });
  EXPECT_EQ(opened, (Outcome{0, 0})) << "another user's open failed: " << errno_text(opened.err);
  ASSERT_EQ(::close(fd), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] {
    struct stat b {};
    return ::stat((b_ / "held").c_str(), &b) == 0 && (b.st_mode & 07777) == 0604 &&
           file_text(b_ / "held") == "held more";
  }, kVisible)) << "the other mount never saw the last mode with the data";
}

// Statahead (client-fuse/statahead.h): the second mount stats every file of a directory
// it has not looked into, and the controller sees far fewer lookups than files. What the
// mount answers from its listing stays true: its own chmod shows at once, even to a
// lookup after the kernel dropped the name; the other mount's chmod and unlink show
// within the timeout; a name the other mount just made is found at once.
TEST_F(TwoMounts, StatAheadAnswersLookupsFromOneListingAndStaysTrue) {
  constexpr int kFiles = 300;
  auto name = [&](const std::filesystem::path& dir, int i) {
    return (dir / ("f" + std::to_string(i))).string();
  };
  for (int i = 0; i < kFiles; ++i) ASSERT_TRUE(write_file(name(a_, i), "x")) << i;
  auto stat_all = [&] {
    for (int i = 0; i < kFiles; ++i) {
      struct stat st {};
      if (::lstat(name(b_, i).c_str(), &st) != 0 || st.st_size != 1) return i;
    }
    return kFiles;
  };
  auto drop_names = [] {
    ::sync();
    std::ofstream("/proc/sys/vm/drop_caches") << "2\n";
  };
  const std::string lookups = "zhsm_controller_requests_total{op=\"lookup\"}";
  const Cluster& cluster = Cluster::get();
  const double before = cluster.controller_metric(lookups);
  ASSERT_GE(before, 0) << "no lookup counter in the controller's metrics";
  ASSERT_EQ(stat_all(), kFiles);
  const double asked = cluster.controller_metric(lookups) - before;
  EXPECT_LT(asked, kFiles / 4) << "the controller answered " << asked << " lookups for "
                               << kFiles << " stats";

  // This mount's own change: the listing it holds is from before, so it must not answer.
  ASSERT_EQ(::chmod(name(b_, 1).c_str(), 0600), 0) << errno_text(errno);
  drop_names();
  struct stat st {};
  ASSERT_EQ(::lstat(name(b_, 1).c_str(), &st), 0) << errno_text(errno);
  EXPECT_EQ(st.st_mode & 07777, 0600u) << "a lookup after this mount's chmod showed the old mode";

  // The other mount's changes, with a fresh listing on this one.
  drop_names();
  ASSERT_EQ(stat_all(), kFiles);
  ASSERT_EQ(::chmod(name(a_, 2).c_str(), 0640), 0) << errno_text(errno);
  ASSERT_EQ(::unlink(name(a_, 3).c_str()), 0) << errno_text(errno);
  ASSERT_TRUE(write_file(a_ / "new", "new"));
  EXPECT_TRUE(present(b_ / "new")) << "a name the other mount made was not found at once";
  EXPECT_TRUE(eventually([&] {
    struct stat s {};
    return ::lstat(name(b_, 2).c_str(), &s) == 0 && (s.st_mode & 07777) == 0640;
  }, kVisible)) << "the other mount's chmod never showed";
  EXPECT_TRUE(eventually([&] { return !present(name(b_, 3)); }, kVisible))
      << "a name the other mount removed stayed";
}

// A directory this mount changes answers the kernel's next getattr from the change's own
// answer (client-fuse/fresh_dirs.h): making and removing names in it asks the controller
// for almost no getattr, and what stat shows stays true: the link count and mtime after
// each change, this mount's chmod at once, the other mount's chmod within the timeout.
TEST_F(TwoMounts, DirectoryAttributesComeWithTheChangeAndStayTrue) {
  constexpr int kDirs = 100;
  const std::filesystem::path d = a_ / "fresh";
  ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << errno_text(errno);
  auto sub = [&](int i) { return (d / ("s" + std::to_string(i))).string(); };
  const std::string getattrs = "zhsm_controller_requests_total{op=\"getattr\"}";
  const Cluster& cluster = Cluster::get();
  const double before = cluster.controller_metric(getattrs);
  ASSERT_GE(before, 0) << "no getattr counter in the controller's metrics";
  int64_t last_mtime = 0;
  for (int i = 0; i < kDirs; ++i) {
    ASSERT_EQ(::mkdir(sub(i).c_str(), 0755), 0) << i << ": " << errno_text(errno);
    struct stat st {};
    ASSERT_EQ(::stat(d.c_str(), &st), 0) << errno_text(errno);
    ASSERT_EQ(st.st_nlink, static_cast<nlink_t>(2 + i + 1)) << "after mkdir " << i;
    const int64_t mtime = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    ASSERT_GE(mtime, last_mtime) << "the directory's mtime went back after mkdir " << i;
    last_mtime = mtime;
  }
  for (int i = 0; i < kDirs; ++i) {
    ASSERT_EQ(::rmdir(sub(i).c_str()), 0) << i << ": " << errno_text(errno);
    struct stat st {};
    ASSERT_EQ(::stat(d.c_str(), &st), 0) << errno_text(errno);
    ASSERT_EQ(st.st_nlink, static_cast<nlink_t>(2 + kDirs - i - 1)) << "after rmdir " << i;
  }
  const double asked = cluster.controller_metric(getattrs) - before;
  EXPECT_LT(asked, kDirs / 4) << "the controller answered " << asked << " getattrs for "
                              << 2 * kDirs << " changes with a stat after each";

  // This mount's chmod shows at once, also after a change that brings fresh attributes.
  ASSERT_EQ(::chmod(d.c_str(), 0700), 0) << errno_text(errno);
  ASSERT_EQ(::mkdir(sub(0).c_str(), 0755), 0) << errno_text(errno);
  struct stat st {};
  ASSERT_EQ(::stat(d.c_str(), &st), 0) << errno_text(errno);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "a stat after this mount's chmod showed the old mode";

  // The other mount's chmod shows here within the timeout, changes here or not.
  const std::filesystem::path other = b_ / "fresh";
  ASSERT_TRUE(eventually([&] { return present(other); }, kVisible));
  ASSERT_EQ(::chmod(other.c_str(), 0750), 0) << errno_text(errno);
  int made = 1;
  EXPECT_TRUE(eventually([&] {
    if (::mkdir(sub(made).c_str(), 0755) == 0) ++made;
    struct stat s {};
    return ::stat(d.c_str(), &s) == 0 && (s.st_mode & 07777) == 0750;
  }, kVisible)) << "the other mount's chmod never showed";
}

// Both mounts run with the readahead zhsm-fuse sets (read_ahead_kb, default 4 MiB), not
// the kernel's 128 KiB for a new FUSE device.
// A directory a mount made is leased to it (client-fuse/dir_leases.h): it answers lookups
// of names it did not add as missing itself. Every kind of add by the other mount recalls
// the lease first, so the name it adds is found on the first mount at once, not after a
// timeout.
TEST_F(TwoMounts, ADirectoryMadeHereAnswersMissingNamesHereAndEveryAddElsewhereRecallsIt) {
  const Cluster& c = Cluster::get();
  const std::string lookups = "zhsm_fuse_controller_calls_total{op=\"lookup\"}";
  const std::string missing = "zhsm_fuse_lookups_known_missing_total";
  auto a_metric = [&](const std::string& series) { return std::max(0.0, c.metric("fuse-mnt", series)); };

  ASSERT_TRUE(write_file(a_ / "target", "t"));
  ASSERT_TRUE(eventually([&] { return present(b_ / "target"); }, kVisible));
  struct Add {
    const char* what;
    std::function<int(const fs::path& name)> add;  // on the second mount; 0 or errno
  };
  const Add adds[] = {
      {"create", [](const fs::path& p) {
         int fd = ::open(p.c_str(), O_WRONLY | O_CREAT, 0644);
         return fd >= 0 ? ::close(fd) : errno;
       }},
      {"mknod", [](const fs::path& p) { return ::mkfifo(p.c_str(), 0644) == 0 ? 0 : errno; }},
      {"mkdir", [](const fs::path& p) { return ::mkdir(p.c_str(), 0755) == 0 ? 0 : errno; }},
      {"symlink", [](const fs::path& p) { return ::symlink("target", p.c_str()) == 0 ? 0 : errno; }},
      {"link", [this](const fs::path& p) {
         return ::link((b_ / "target").c_str(), p.c_str()) == 0 ? 0 : errno;
       }},
      {"rename", [this](const fs::path& p) {
         if (!write_file(b_ / "moving", "m")) return EIO;
         return ::rename((b_ / "moving").c_str(), p.c_str()) == 0 ? 0 : errno;
       }},
  };
  for (const Add& add : adds) {
    SCOPED_TRACE(add.what);
    const fs::path dir = a_ / (std::string("made-") + add.what);
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << errno_text(errno);
    const double asked = a_metric(lookups), answered = a_metric(missing);
    for (int i = 0; i < 20; ++i) {
      struct stat st {};
      ASSERT_NE(::stat((dir / ("none" + std::to_string(i))).c_str(), &st), 0);
      ASSERT_EQ(errno, ENOENT);
    }
    struct stat st {};
    ASSERT_NE(::stat((dir / "x").c_str(), &st), 0);
    EXPECT_EQ(a_metric(lookups), asked) << "missing names in a directory made here were asked";
    EXPECT_EQ(a_metric(missing), answered + 21);

    const fs::path there = b_ / (std::string("made-") + add.what);
    ASSERT_TRUE(eventually([&] { return present(there); }, kVisible));
    ASSERT_EQ(add.add(there / "x"), 0);
    EXPECT_EQ(::lstat((dir / "x").c_str(), &st), 0)
        << "a name the other mount added is missing here: " << errno_text(errno);
  }
  EXPECT_GE(c.controller_metric("zhsm_controller_lease_recalls_total"), 6);
}

// A mount that holds a lease and does not answer its recall (stopped here with SIGSTOP)
// holds up the other mount's add until the lease's time is up, not longer; once it runs
// again it no longer trusts the lease and finds the new name.
TEST_F(TwoMounts, AHolderThatDoesNotAnswerDelaysAnAddOnlyUntilItsLeaseEnds) {
  const Cluster& c = Cluster::get();
  const fs::path dir = a_ / "held";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << errno_text(errno);
  struct stat st {};
  ASSERT_NE(::stat((dir / "x").c_str(), &st), 0);
  ASSERT_TRUE(eventually([&] { return present(b_ / "held"); }, kVisible));
  const pid_t holder = c.client_pid(c.mount());
  ASSERT_GT(holder, 0);
  ASSERT_EQ(::kill(holder, SIGSTOP), 0) << errno_text(errno);
  const auto start = std::chrono::steady_clock::now();
  const bool made = write_file(b_ / "held" / "x", "from b");
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(::kill(holder, SIGCONT), 0) << errno_text(errno);
  ASSERT_TRUE(made) << "the add failed while the holder was stopped";
  std::printf("add waited %.2f s for a holder that did not answer\n",
              std::chrono::duration<double>(waited).count());
  EXPECT_EQ(file_text(dir / "x"), "from b") << "the holder answered from a lease it lost";
}

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

// Close-to-open across a replacement: the other mount still has the old name in the
// kernel's entry cache (it just read the file), and the file at that name is now
// another one: renamed over it (as editors save) or made anew after an unlink. An open
// right away, without waiting for the cache, reads the new file: the mount answers the
// first open of the nameless old inode with ESTALE and the kernel looks the name up
// again. Small (inline) and larger (chunked) files.
TEST_F(TwoMounts, AFileReplacedOnOneMountIsTheOneTheOtherOpensRightAway) {
  for (size_t size : {size_t{40}, size_t{300000}}) {
    for (int round = 0; round < 6; ++round) {
      const bool by_rename = round % 2 == 0;
      const std::string old_data = pattern_bytes(round * 2 + 1, size);
      const std::string new_data = pattern_bytes(round * 2 + 2, size);
      ASSERT_TRUE(write_file(a_ / "doc", old_data));
      ASSERT_TRUE(eventually([&] { return file_text(b_ / "doc") == old_data; }, kVisible));
      if (by_rename) {
        ASSERT_TRUE(write_file(a_ / "doc.tmp", new_data));
        ASSERT_EQ(::rename((a_ / "doc.tmp").c_str(), (a_ / "doc").c_str()), 0) << errno_text(errno);
      } else {
        ASSERT_EQ(::unlink((a_ / "doc").c_str()), 0) << errno_text(errno);
        ASSERT_TRUE(write_file(a_ / "doc", new_data));
      }
      const std::string seen = file_text(b_ / "doc");
      EXPECT_TRUE(seen == new_data)
          << (by_rename ? "renamed over" : "unlinked and made again") << ", " << size
          << " bytes, round " << round << ": the other mount read "
          << (seen == old_data ? "the old file" : show(seen));
    }
  }
  // Removed, not replaced: the name is gone on the other mount as soon as it opens it.
  ASSERT_TRUE(write_file(a_ / "gone", "soon gone"));
  ASSERT_TRUE(eventually([&] { return file_text(b_ / "gone") == "soon gone"; }, kVisible));
  ASSERT_EQ(::unlink((a_ / "gone").c_str()), 0);
  EXPECT_EQ(::open((b_ / "gone").c_str(), O_RDONLY), -1);
  EXPECT_EQ(errno, ENOENT) << errno_text(errno);
}

// The same for a directory removed and made again (`rm -rf d; mkdir d`) while the other
// mount still holds the old one's name: reads, creates, stats and unlinks under it reach
// the new directory right away; a mkdir there may answer ESTALE until the entry timeout.
TEST_F(TwoMounts, ADirectoryMadeAgainOnOneMountIsTheOneTheOtherUsesRightAway) {
  const char* const kinds[] = {"read", "create", "mkdir", "stat", "unlink"};
  for (int round = 0; round < 10; ++round) {
    const std::string kind = kinds[round % std::size(kinds)];
    const std::string old_data = "old " + std::to_string(round);
    const std::string new_data = "new " + std::to_string(round);
    ASSERT_EQ(::mkdir((a_ / "d").c_str(), 0755), 0) << errno_text(errno);
    ASSERT_TRUE(write_file(a_ / "d" / "f", old_data));
    ASSERT_TRUE(eventually([&] { return file_text(b_ / "d" / "f") == old_data; }, kVisible));
    ASSERT_EQ(::unlink((a_ / "d" / "f").c_str()), 0);
    ASSERT_EQ(::rmdir((a_ / "d").c_str()), 0);
    ASSERT_EQ(::mkdir((a_ / "d").c_str(), 0755), 0) << errno_text(errno);
    ASSERT_TRUE(write_file(a_ / "d" / "f", new_data));
    const fs::path f = b_ / "d" / "f";
    if (kind == "read") {
      EXPECT_EQ(file_text(f), new_data) << "round " << round;
    } else if (kind == "create") {
      EXPECT_EQ(put(b_ / "d" / "g", "made on B"), 9) << "round " << round << ": " << errno_text(errno);
      EXPECT_TRUE(eventually([&] { return file_text(a_ / "d" / "g") == "made on B"; }, kVisible));
    } else if (kind == "mkdir") {
      // Linux does not look the path up again when the lookup of the new name itself
      // fails (filename_create): such a mkdir answers ESTALE until the entry timeout
      // passes, never ENOENT, and then makes the directory.
      const fs::path sub = b_ / "d" / "sub";
      int r = ::mkdir(sub.c_str(), 0755);
      if (r != 0) EXPECT_EQ(errno, ESTALE) << "round " << round << ": " << errno_text(errno);
      EXPECT_TRUE(eventually([&] { return r == 0 || (r = ::mkdir(sub.c_str(), 0755)) == 0; },
                             kVisible))
          << "round " << round << ": " << errno_text(errno);
      EXPECT_TRUE(eventually([&] { return present(a_ / "d" / "sub"); }, kVisible));
    } else if (kind == "stat") {
      struct stat st {};
      EXPECT_EQ(::stat(f.c_str(), &st), 0) << "round " << round << ": " << errno_text(errno);
      EXPECT_EQ(st.st_size, static_cast<off_t>(new_data.size())) << "round " << round;
    } else {
      EXPECT_EQ(::unlink(f.c_str()), 0) << "round " << round << ": " << errno_text(errno);
      EXPECT_TRUE(eventually([&] { return !present(a_ / "d" / "f"); }, kVisible));
    }
    // Clean up from A for the next round.
    ASSERT_TRUE(run_command({"/bin/rm", "-rf", (a_ / "d").string()}).ok());
  }
}

// An open file that lost its name is still opened again through /proc/self/fd on the
// mount that has it open, as on a local filesystem (the ESTALE above is only for files
// not open here).
TEST_F(TwoMounts, AnUnlinkedFileOpenHereIsOpenedAgainThroughProcSelfFd) {
  ASSERT_TRUE(write_file(a_ / "held", "still here"));
  int fd = ::open((a_ / "held").c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << errno_text(errno);
  ASSERT_EQ(::unlink((a_ / "held").c_str()), 0);
  const std::string again = "/proc/self/fd/" + std::to_string(fd);
  int fd2 = ::open(again.c_str(), O_RDONLY);
  EXPECT_GE(fd2, 0) << "reopening " << again << ": " << errno_text(errno);
  if (fd2 >= 0) {
    EXPECT_EQ(pread_text(fd2, 100, 0), "still here");
    ::close(fd2);
  }
  ::close(fd);
}

}  // namespace
}  // namespace zhsm::test
