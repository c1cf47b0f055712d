// flock and fcntl locks held across the mounts of one cluster: exclusive and shared flock
// locks (LOCK_NB refused while another mount holds one, granted once the holder closes),
// fcntl byte ranges (disjoint ranges coexist, overlapping ones conflict, F_GETLK reports
// the holder's range, type and pid, a blocked F_SETLKW completes once the other mount
// unlocks and returns EINTR when interrupted), the locks of one process through two
// descriptors (compared with a native directory), and locks dropped when the holder's
// mount goes away (its client killed, the mount removed; a new client there inherits
// nothing). Lock owners are processes, so
// the other holders are forked children (test/integration/child_process.h). Descriptors
// are opened O_CLOEXEC: a daemon that zhsm-cluster starts meanwhile must not inherit one
// and keep its open file description (and so its flock lock) alive.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "test/integration/child_process.h"
#include "test/integration/cluster.h"
#include "test/integration/two_mount_test.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

// 0 or the errno of flock / fcntl(F_SETLK[W]).
int flock_err(int fd, int op) { return ::flock(fd, op) == 0 ? 0 : errno; }

int setlk(int fd, short type, off_t start, off_t len, int cmd = F_SETLK) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = start;
  l.l_len = len;
  return ::fcntl(fd, cmd, &l) == 0 ? 0 : errno;
}

// F_GETLK for a lock of `type` over [start, start+len); l_type -1 when the call failed.
struct flock getlk(int fd, short type, off_t start, off_t len) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = start;
  l.l_len = len;
  if (::fcntl(fd, F_GETLK, &l) != 0) l.l_type = -1;
  return l;
}

// F_GETLK as one number for a transcript or a child's answer: type, start and length
// (small values) packed, with whether the holder is `pid`.
int getlk_code(int fd, short type, off_t start, off_t len, pid_t pid) {
  struct flock l = getlk(fd, type, start, len);
  if (l.l_type == -1) return -errno;
  if (l.l_type == F_UNLCK) return 9;
  return 100000000 * (l.l_pid == pid ? 1 : 2) + 1000000 * l.l_type +
         1000 * static_cast<int>(l.l_start) + static_cast<int>(l.l_len);
}

// The pid of the zhsm-fuse process serving mount `path` (run/mounts and run/fuse-KEY.pid
// of zhsm-cluster), or -1.
pid_t client_pid(const fs::path& path) {
  std::ifstream mounts(Cluster::get().dir() / "run" / "mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos || fs::path(line.substr(tab + 1)) != path) continue;
    std::ifstream pid_file(Cluster::get().dir() / "run" / ("fuse-" + line.substr(0, tab) + ".pid"));
    pid_t pid = -1;
    pid_file >> pid;
    return pid_file ? pid : -1;
  }
  return -1;
}

std::atomic<int> g_signals{0};
void count_signal(int) { g_signals.fetch_add(1); }

// Ends a thread blocked in F_SETLKW: SIGUSR1 (caught without SA_RESTART, see
// SetUpTestSuite) until the wait returns; then joins it. Returns whether it had
// finished on its own.
bool finish_waiter(std::thread& waiter, const std::atomic<bool>& done) {
  bool finished = done.load();
  while (!done.load()) {
    ::pthread_kill(waiter.native_handle(), SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  waiter.join();
  return finished;
}

// Whether process `pid` has exited (gone, or a zombie nobody reaped yet).
bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return true;
  auto paren = text.rfind(") ");
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

class Locks : public TwoMountTest {
 protected:
  static void SetUpTestSuite() {
    struct sigaction sa {};
    sa.sa_handler = count_signal;  // no SA_RESTART: an interrupted F_SETLKW returns EINTR
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGUSR1, &sa, nullptr);
    TwoMountTest::SetUpTestSuite();
  }

  void SetUp() override {
    TwoMountTest::SetUp();
    if (HasFatalFailure()) return;
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_TRUE(write_file(a_ / "f", "0123456789"));
    ASSERT_TRUE(eventually([&] { return present(b_ / "f"); }, kVisible))
        << "the file made on the first mount never appeared on the second";
    path_a_ = (a_ / "f").string();
  }

  std::string name_;
  std::string path_a_;
};

TEST_F(Locks, FlockIsExclusiveAcrossMountsUntilTheHolderCloses) {
  int hfd = -1;
  const char* path = path_a_.c_str();
  Child holder({
      [&] { return (hfd = ::open(path, O_RDWR | O_CLOEXEC)) < 0 ? errno : 0; },
      [&] { return flock_err(hfd, LOCK_EX); },
      [&] { return ::close(hfd) == 0 ? 0 : errno; },
  });
  ASSERT_EQ(holder.run(0), 0);
  ASSERT_EQ(holder.run(1), 0);

  int fd = ::open((b_ / "f").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << errno_text(errno);
  EXPECT_EQ(flock_err(fd, LOCK_EX | LOCK_NB), EWOULDBLOCK);
  EXPECT_EQ(flock_err(fd, LOCK_SH | LOCK_NB), EWOULDBLOCK);

  ASSERT_EQ(holder.run(2), 0);  // close drops the lock
  EXPECT_TRUE(eventually([&] { return flock_err(fd, LOCK_EX | LOCK_NB) == 0; }, kVisible))
      << "the second mount never got the lock the first one closed";

  // Now the first mount is refused, until the second unlocks.
  int afd = ::open(path, O_RDWR | O_CLOEXEC);
  ASSERT_GE(afd, 0) << errno_text(errno);
  EXPECT_EQ(flock_err(afd, LOCK_SH | LOCK_NB), EWOULDBLOCK);
  EXPECT_EQ(flock_err(fd, LOCK_UN), 0);
  EXPECT_EQ(flock_err(afd, LOCK_SH | LOCK_NB), 0);
  ::close(afd);
  ::close(fd);
}

TEST_F(Locks, FlockSharedAcrossMountsAndConversionAsOnLinux) {
  int hfd = -1;
  const char* path = path_a_.c_str();
  Child holder({
      [&] { return (hfd = ::open(path, O_RDONLY | O_CLOEXEC)) < 0 ? errno : 0; },
      [&] { return flock_err(hfd, LOCK_SH); },
      [&] { return flock_err(hfd, LOCK_EX | LOCK_NB); },
  });
  ASSERT_EQ(holder.run(0), 0);
  ASSERT_EQ(holder.run(1), 0);
  int fd = ::open((b_ / "f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << errno_text(errno);
  EXPECT_EQ(flock_err(fd, LOCK_SH | LOCK_NB), 0);  // readers share across mounts
  EXPECT_EQ(holder.run(2), EWOULDBLOCK);            // a conversion another reader blocks
  // The refused conversion dropped the holder's shared lock first (flock(2) on Linux), so
  // the second mount can now convert its own.
  EXPECT_EQ(flock_err(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(holder.run(2), EWOULDBLOCK);
  ::close(fd);
  EXPECT_TRUE(eventually([&] { return holder.run(2) == 0; }, kVisible));
}

TEST_F(Locks, FcntlRangesAcrossMounts) {
  int hfd = -1;
  const char* path = path_a_.c_str();
  Child holder({
      [&] { return (hfd = ::open(path, O_RDWR | O_CLOEXEC)) < 0 ? errno : 0; },
      [&] { return setlk(hfd, F_WRLCK, 0, 100); },
      [&] { return setlk(hfd, F_RDLCK, 1000, 0); },
      [&] { return ::close(hfd) == 0 ? 0 : errno; },
  });
  ASSERT_EQ(holder.run(0), 0);
  ASSERT_EQ(holder.run(1), 0);
  ASSERT_EQ(holder.run(2), 0);

  int fd = ::open((b_ / "f").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << errno_text(errno);
  EXPECT_EQ(setlk(fd, F_WRLCK, 100, 100), 0);  // disjoint
  EXPECT_EQ(setlk(fd, F_WRLCK, 50, 10), EAGAIN);
  EXPECT_EQ(setlk(fd, F_RDLCK, 99, 1), EAGAIN);
  EXPECT_EQ(setlk(fd, F_RDLCK, 1500, 10), 0);  // readers share
  EXPECT_EQ(setlk(fd, F_WRLCK, 2000, 1), EAGAIN);

  struct flock l = getlk(fd, F_WRLCK, 0, 0);
  EXPECT_EQ(l.l_type, F_WRLCK);
  EXPECT_EQ(l.l_start, 0);
  EXPECT_EQ(l.l_len, 100);
  EXPECT_EQ(l.l_pid, holder.pid());
  l = getlk(fd, F_WRLCK, 5000, 10);
  EXPECT_EQ(l.l_type, F_RDLCK);
  EXPECT_EQ(l.l_start, 1000);
  EXPECT_EQ(l.l_len, 0);  // to the end of the file
  EXPECT_EQ(l.l_pid, holder.pid());
  l = getlk(fd, F_RDLCK, 100, 900);  // only its own lock there
  EXPECT_EQ(l.l_type, F_UNLCK);

  ASSERT_EQ(holder.run(3), 0);  // close drops the holder's locks
  EXPECT_TRUE(eventually([&] { return setlk(fd, F_WRLCK, 0, 0) == 0; }, kVisible))
      << "the second mount never got the range the first one closed";
  ::close(fd);
}

TEST_F(Locks, BlockedSetlkwCompletesWhenTheOtherMountUnlocks) {
  int hfd = -1;
  const char* path = path_a_.c_str();
  const pid_t me = ::getpid();
  Child holder({
      [&] { return (hfd = ::open(path, O_RDWR | O_CLOEXEC)) < 0 ? errno : 0; },
      [&] { return setlk(hfd, F_WRLCK, 0, 100); },
      [&] { return setlk(hfd, F_UNLCK, 0, 100); },
      // What the first mount sees afterwards: the waiter's range, held by this test.
      [&] { return getlk_code(hfd, F_WRLCK, 0, 0, me); },
  });
  ASSERT_EQ(holder.run(0), 0);
  ASSERT_EQ(holder.run(1), 0);

  int fd = ::open((b_ / "f").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << errno_text(errno);
  std::atomic<bool> done{false};
  std::atomic<int> result{-1};
  std::thread waiter([&] {
    result = setlk(fd, F_WRLCK, 50, 50, F_SETLKW);
    done = true;
  });
  EXPECT_FALSE(done.load());
  ASSERT_EQ(holder.run(2), 0);
  eventually([&] { return done.load(); }, kVisible);
  ASSERT_TRUE(finish_waiter(waiter, done))
      << "F_SETLKW never returned after the other mount unlocked";
  EXPECT_EQ(result.load(), 0) << errno_text(result.load());
  EXPECT_EQ(holder.run(3), 100000000 + 1000000 * F_WRLCK + 1000 * 50 + 50);
  ::close(fd);
}

TEST_F(Locks, InterruptedSetlkwReturnsEintr) {
  int hfd = -1;
  const char* path = path_a_.c_str();
  Child holder({
      [&] { return (hfd = ::open(path, O_RDWR | O_CLOEXEC)) < 0 ? errno : 0; },
      [&] { return setlk(hfd, F_WRLCK, 0, 0); },
  });
  ASSERT_EQ(holder.run(0), 0);
  ASSERT_EQ(holder.run(1), 0);

  int fd = ::open((b_ / "f").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << errno_text(errno);
  const int signals_before = g_signals.load();
  std::atomic<bool> done{false};
  std::atomic<int> result{-1};
  std::thread waiter([&] {
    result = setlk(fd, F_WRLCK, 0, 10, F_SETLKW);
    done = true;
  });
  finish_waiter(waiter, done);  // the signal may come before the wait: sent until it ends
  EXPECT_EQ(result.load(), EINTR) << errno_text(result.load());
  EXPECT_GT(g_signals.load(), signals_before);
  // Nothing was taken: the holder's lock is still the one in the way.
  struct flock l = getlk(fd, F_WRLCK, 0, 10);
  EXPECT_EQ(l.l_type, F_WRLCK);
  EXPECT_EQ(l.l_pid, holder.pid());
  ::close(fd);
}

TEST_F(Locks, OneProcessThroughTwoDescriptorsAsOnLinux) {
  // Linux semantics: a process's fcntl locks belong to the process, not the descriptor:
  // its ranges through two descriptors merge, and closing either descriptor drops all.
  auto scenario = [](const fs::path& dir, Transcript& t) {
    const std::string p = (dir / "g").string();
    const char* path = p.c_str();
    const pid_t me = ::getpid();
    t.call("create", [&] { return write_file(dir / "g", "some bytes to lock") ? 0L : -1L; });
    int fd1 = static_cast<int>(
        t.call("open fd1", [&] { return ::open(path, O_RDWR | O_CLOEXEC); }));
    int fd2 = static_cast<int>(
        t.call("open fd2", [&] { return ::open(path, O_RDONLY | O_CLOEXEC); }));
    int cfd = -1;
    Child other({
        [&] { return (cfd = ::open(path, O_RDWR | O_CLOEXEC)) < 0 ? errno : 0; },
        [&] { return getlk_code(cfd, F_WRLCK, 0, 0, me); },
        [&] { return setlk(cfd, F_WRLCK, 20, 10); },
        [&] { return setlk(cfd, F_WRLCK, 0, 10); },
        [&] { return getlk_code(cfd, F_RDLCK, 0, 0, me); },
    });
    t.note("other: open", other.run(0));
    t.call("write lock [0,10) through fd1", [&] { return setlk(fd1, F_WRLCK, 0, 10); });
    t.call("read lock [5,15) through fd2", [&] { return setlk(fd2, F_RDLCK, 5, 10); });
    t.note("other: F_GETLK write [0,eof)", other.run(1));
    t.note("other: read lock check", other.run(4));
    t.call("write lock [10,15) through fd1", [&] { return setlk(fd1, F_WRLCK, 10, 5); });
    t.note("other: F_GETLK after the upgrade", other.run(1));
    t.note("other: write lock [20,30)", other.run(2));
    t.note("other: write lock [0,10)", other.run(3));
    t.call("close fd2", [&] { return ::close(fd2); });
    t.note("other: F_GETLK after close of fd2", other.run(1));
    t.note("other: write lock [0,10) after close of fd2", other.run(3));
    t.call("write lock [0,10) through fd1 again", [&] { return setlk(fd1, F_WRLCK, 0, 10); });
    t.call("close fd1", [&] { return ::close(fd1); });
  };
  Transcript on_mount;
  Transcript on_native;
  NativeDir native;
  scenario(a_, on_mount);
  scenario(native.path(), on_native);
  expect_same_transcripts(on_mount, on_native);
}

TEST_F(Locks, LocksGoWhenTheHoldersMountGoesAway) {
  fs::path third;
  try {
    third = Cluster::get().add_mount("mnt3");
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  fs::path c = third / name_;
  ASSERT_TRUE(eventually([&] { return present(c / "f"); }, kVisible));
  int cfd = ::open((c / "f").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(cfd, 0) << errno_text(errno);
  ASSERT_EQ(flock_err(cfd, LOCK_EX), 0);
  ASSERT_EQ(setlk(cfd, F_WRLCK, 0, 0), 0);

  int fd = ::open(path_a_.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << errno_text(errno);
  EXPECT_EQ(flock_err(fd, LOCK_EX | LOCK_NB), EWOULDBLOCK);
  EXPECT_EQ(setlk(fd, F_WRLCK, 0, 1), EAGAIN);

  // The holder's client dies without a word to the controller, then its mount goes.
  pid_t client = client_pid(third);
  ASSERT_GT(client, 0) << "no pid file for the client of " << third;
  ASSERT_EQ(::kill(client, SIGKILL), 0) << errno_text(errno);
  EXPECT_TRUE(eventually([&] { return process_gone(client); }, kVisible))
      << "zhsm-fuse " << client << " survived SIGKILL";
  ::close(cfd);  // fails: nobody serves the mount any more
  auto r = run_command({"/bin/sh", "-c", "exec fusermount3 -u \"$0\"", third.string()});
  EXPECT_TRUE(r.ok()) << r.describe();

  // The controller drops the locks of a client gone for its grace time (10 s by default).
  EXPECT_TRUE(eventually(
      [&] { return flock_err(fd, LOCK_EX | LOCK_NB) == 0 && setlk(fd, F_WRLCK, 0, 0) == 0; },
      std::chrono::seconds(60), std::chrono::milliseconds(500)))
      << "the locks of the vanished mount were never dropped\n"
      << Cluster::get().log_tails(20);

  // A new client on the same mount point is a new holder: it inherits nothing and waits
  // for this one like anybody else. (It also leaves the cluster whole for the next tests.)
  try {
    Cluster::get().add_mount("mnt3");
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  int again = ::open((c / "f").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(again, 0) << errno_text(errno);
  EXPECT_EQ(flock_err(again, LOCK_EX | LOCK_NB), EWOULDBLOCK);
  ::close(fd);
  EXPECT_TRUE(eventually([&] { return flock_err(again, LOCK_EX | LOCK_NB) == 0; }, kVisible));
  ::close(again);
}

}  // namespace
}  // namespace zhsm::test
