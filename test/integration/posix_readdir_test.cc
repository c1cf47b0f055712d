// Directory listings: stable while another thread adds and removes entries (no
// entry twice, none of the unchanged ones lost), on the mount and on a native
// directory; and a directory of 100,000 entries created and listed, with the
// time each takes printed (no timing assertion: the point is that it works and
// what it costs).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

class PosixReaddir : public MountTest {};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Every name of one pass over the directory, counted, with getdents64 and a
// buffer of `buffer` bytes.
std::map<std::string, int> getdents_pass(const fs::path& dir, size_t buffer, std::string* error) {
  std::map<std::string, int> seen;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *error = errno_text(errno);
    return seen;
  }
  std::vector<char> buf(buffer);
  for (;;) {
    long n = ::syscall(SYS_getdents64, fd, buf.data(), buf.size());
    if (n < 0) {
      *error = errno_text(errno);
      break;
    }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf.data() + off);
      std::string name = d->d_name;
      if (name != "." && name != "..") ++seen[name];
      off += d->d_reclen;
    }
  }
  ::close(fd);
  return seen;
}

// Lists `dir` `passes` times while a second thread creates and removes "churn"
// entries in it; the "keep" entries must come exactly once in every pass.
void listing_under_churn(const fs::path& dir, int keep, int passes, Transcript& t) {
  for (int i = 0; i < keep; ++i)
    ::mknod((dir / ("keep-" + std::to_string(i))).c_str(), S_IFREG | 0644, 0);
  std::atomic<bool> stop{false};
  std::atomic<int> churned{0};
  std::thread churn([&] {
    int next = 0;
    while (!stop.load()) {
      std::string name = "churn-" + std::to_string(next);
      ::mknod((dir / name).c_str(), S_IFREG | 0644, 0);
      if (next >= 20) ::unlink((dir / ("churn-" + std::to_string(next - 20))).c_str());
      if (next % 7 == 0) ::mkdir((dir / ("churn-dir-" + std::to_string(next))).c_str(), 0755);
      if (next % 7 == 0 && next >= 70)
        ::rmdir((dir / ("churn-dir-" + std::to_string(next - 70))).c_str());
      ++next;
      churned.store(next);
    }
  });
  // The listings overlap the changes: start once the other thread is under way, and
  // go on past `passes` (for at most 30 s) until it has made a good number of them.
  eventually([&] { return churned.load() > 0; }, 10s, 1ms);
  auto deadline = Clock::now() + 30s;
  int lost = 0, doubled = 0, bad_passes = 0;
  std::string error;
  for (int p = 0; p < passes || (churned.load() < 50 && Clock::now() < deadline); ++p) {
    // Alternate readdir(3) and getdents64 with a small buffer (many calls per pass).
    auto seen = p % 2 ? getdents_pass(dir, 1024, &error) : list_dir(dir, &error);
    int lost_here = 0, doubled_here = 0;
    for (int i = 0; i < keep; ++i)
      if (seen["keep-" + std::to_string(i)] != 1) ++lost_here;
    for (auto& [name, count] : seen)
      if (count > 1) ++doubled_here;
    lost += lost_here;
    doubled += doubled_here;
    if (lost_here || doubled_here) ++bad_passes;
  }
  stop.store(true);
  churn.join();
  t.note("listing error", error);
  t.note("unchanged entries not listed exactly once", lost);
  t.note("names listed more than once", doubled);
  t.note("passes with a problem", bad_passes);
  t.note("the other thread made changes", churned.load() >= 50 ? "yes" : "no");
}

TEST_F(PosixReaddir, StableWhileAnotherThreadAddsAndRemoves) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path dir = d / "churn";
    ::mkdir(dir.c_str(), 0755);
    listing_under_churn(dir, 3000, 12, t);
  });
}

// Rewinding and seeking with telldir/seekdir: a position taken mid-listing
// resumes exactly there, and rewinddir shows entries created since.
TEST_F(PosixReaddir, TelldirSeekdirRewinddir) {
  compare([](const fs::path& d, Transcript& t) {
    fs::path dir = d / "seek";
    ::mkdir(dir.c_str(), 0755);
    for (int i = 0; i < 2500; ++i) ::mknod((dir / ("e" + std::to_string(i))).c_str(), S_IFREG | 0644, 0);
    DIR* dp = ::opendir(dir.c_str());
    if (!dp) {
      t.note("opendir", errno_text(errno));
      return;
    }
    std::vector<std::string> first;
    long mark = -1;
    std::vector<std::string> after_mark;
    while (dirent* e = ::readdir(dp)) {
      first.push_back(e->d_name);
      if (first.size() == 1234) mark = ::telldir(dp);
      if (mark >= 0 && first.size() > 1234) after_mark.push_back(e->d_name);
    }
    t.note("entries", static_cast<long long>(first.size()));
    ::seekdir(dp, mark);
    std::vector<std::string> again;
    while (dirent* e = ::readdir(dp)) again.push_back(e->d_name);
    t.note("seekdir resumes at the mark", again == after_mark ? "yes" : "no");
    ::mknod((dir / "created-later").c_str(), S_IFREG | 0644, 0);
    ::unlink((dir / "e7").c_str());
    ::rewinddir(dp);
    std::set<std::string> fresh;
    while (dirent* e = ::readdir(dp)) fresh.insert(e->d_name);
    t.note("rewinddir shows the new entry", fresh.count("created-later") ? "yes" : "no");
    t.note("rewinddir drops the removed entry", fresh.count("e7") ? "no" : "yes");
    t.note("after rewinddir", static_cast<long long>(fresh.size()));
    ::closedir(dp);
  });
}

TEST_F(PosixReaddir, HundredThousandEntries) {
  constexpr int kEntries = 100000;
  constexpr int kThreads = 4;
  for (const fs::path& base : {mount_dir_, native_dir_}) {
    const char* where = base == mount_dir_ ? "mount" : "native";
    fs::path dir = base / "big";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << errno_text(errno);
    auto start = Clock::now();
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < kThreads; ++w) {
      workers.emplace_back([&, w] {
        for (int i = w; i < kEntries; i += kThreads) {
          char name[32];
          std::snprintf(name, sizeof name, "entry-%06d", i);
          if (::mknod((dir / name).c_str(), S_IFREG | 0644, 0) != 0) failures.fetch_add(1);
        }
      });
    }
    for (auto& th : workers) th.join();
    double created = seconds_since(start);
    ASSERT_EQ(failures.load(), 0) << where << ": some mknod calls failed";
    std::printf("[ %s ] created %d entries in one directory in %.1f s (%.0f/s, %d threads)\n",
                where, kEntries, created, kEntries / created, kThreads);

    start = Clock::now();
    std::string error;
    auto seen = list_dir(dir, &error);
    double listed = seconds_since(start);
    EXPECT_EQ(error, "") << where;
    EXPECT_EQ(seen.size(), static_cast<size_t>(kEntries)) << where;
    int twice = 0;
    for (auto& [name, count] : seen) twice += count != 1;
    EXPECT_EQ(twice, 0) << where << ": names listed more than once";
    std::printf("[ %s ] listed %zu entries with readdir(3) in %.2f s (%.0f/s)\n", where,
                seen.size(), listed, seen.size() / listed);

    start = Clock::now();
    auto again = getdents_pass(dir, 1 << 20, &error);
    double listed_big = seconds_since(start);
    EXPECT_EQ(again.size(), static_cast<size_t>(kEntries)) << where;
    std::printf("[ %s ] listed again with getdents64 and a 1 MiB buffer in %.2f s\n", where,
                listed_big);

    // `ls -l`-style: the listing plus a stat of every entry.
    start = Clock::now();
    int stat_failures = 0;
    for (auto& [name, count] : again) {
      struct stat st {};
      if (::lstat((dir / name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) ++stat_failures;
    }
    double statted = seconds_since(start);
    EXPECT_EQ(stat_failures, 0) << where;
    std::printf("[ %s ] stat of every entry after the listing: %.2f s\n", where, statted);
    // Lookups in the big directory stay index probes.
    struct stat st {};
    EXPECT_EQ(::stat((dir / "entry-099999").c_str(), &st), 0) << where;
    EXPECT_NE(::stat((dir / "entry-100000").c_str(), &st), 0) << where;
  }
}

}  // namespace
}  // namespace zhsm::test
