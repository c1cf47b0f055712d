// Two mounts claiming the same names at the same moment, in directories that one of
// them has just made (and so holds a lease on, answering lookups of missing names
// itself until the other's first add recalls it): exclusive creates, mkdirs, symlinks,
// hard links and no-replace renames. Every name must be won by exactly one mount, the
// loser must get EEXIST, and afterwards both mounts must list the same entries, each
// holding what its winner put there; then both remove every name at once, and again
// exactly one removal of each must succeed.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <barrier>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "test/integration/cluster.h"
#include "test/integration/syscalls.h"
#include "test/integration/two_mount_test.h"

namespace zhsm::test {
namespace {

constexpr int kRounds = 40;
constexpr int kNames = 5;  // of each kind, per round
const char* const kKinds[] = {"file", "dir", "symlink", "link", "rename"};

// Claims names[kind][i] of directory `dir` as mount `who` ("A" or "B"): what each
// claim returned (0 or an errno).
struct Claims {
  std::map<std::string, int> result;  // name -> 0 (won) or errno
};

int claim(const fs::path& dir, const std::string& kind, const std::string& name,
          const std::string& who) {
  const fs::path p = dir / name;
  auto err = [](long r) { return r == 0 ? 0 : errno; };
  if (kind == "file") {
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return errno;
    long w = write_all(fd, who);
    int e = w < 0 ? errno : 0;
    if (::close(fd) != 0 && e == 0) e = errno;
    return e ? -e : 0;  // negative: won the name but the write or close failed
  }
  if (kind == "dir") return err(::mkdir(p.c_str(), 0755));
  if (kind == "symlink") return err(::symlink(who.c_str(), p.c_str()));
  if (kind == "link") return err(::link((dir / ("own-" + who)).c_str(), p.c_str()));
  // rename: a file of this mount's own, moved onto the name unless it exists.
  const fs::path tmp = dir / fmt::format(".tmp-{}-{}", who, name);
  if (long r = put(tmp, who); r < 0) return -errno;
  int e = err(::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, p.c_str(), RENAME_NOREPLACE));
  if (e != 0) ::unlink(tmp.c_str());
  return e;
}

// What the name holds, as the winner would have put it ("A" or "B"), seen from `dir`.
std::string holder(const fs::path& dir, const std::string& kind, const std::string& name) {
  const fs::path p = dir / name;
  if (kind == "dir") {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode) ? "dir" : "<not a directory>";
  }
  if (kind == "symlink") {
    char buf[64];
    ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
    return n < 0 ? "<" + errno_text(errno) + ">" : std::string(buf, static_cast<size_t>(n));
  }
  return file_text(p);
}

// Each mount's own file in directory d (as both mounts see it) has one link more for
// every link-N name that mount won (`won`: name -> 0 when it won).
void expect_links_of(const fs::path& a, const fs::path& b, const std::string& who,
                     std::map<std::string, int> won) {
  nlink_t links = 1;
  for (int i = 0; i < kNames; ++i) {
    auto it = won.find(fmt::format("link-{}", i));
    if (it != won.end() && it->second == 0) ++links;
  }
  for (const fs::path& dir : {a, b}) {
    struct stat st {};
    const fs::path own = dir / ("own-" + who);
    EXPECT_TRUE(eventually(
        [&] { return ::lstat(own.c_str(), &st) == 0 && st.st_nlink == links; }, kVisible))
        << own << " has " << st.st_nlink << " links, " << links << " expected";
  }
}

// The names listed in `dir` (readdir), once each.
std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> got;
  for (const auto& [name, count] : list_dir(dir)) got.insert(name);
  return got;
}

// Directory names never used before in this process: under --gtest_repeat the test
// directory comes back with its old name, and the other mount may still hold the old
// one's entries for their timeout (1 s).
std::string fresh_name(const char* prefix, int round) {
  static int runs = 0;
  if (round == 0) ++runs;
  return fmt::format("{}{:03d}-{}", prefix, round, runs);
}

using TwoMountRaces = TwoMountTest;

TEST_F(TwoMountRaces, EveryNameClaimedOrRemovedFromBothMountsAtOnceGoesToExactlyOne) {
  std::vector<std::string> names;
  for (const char* kind : kKinds)
    for (int i = 0; i < kNames; ++i) names.push_back(fmt::format("{}-{}", kind, i));
  auto kind_of = [](const std::string& name) { return name.substr(0, name.find('-')); };
  const char* const recalls = "zhsm_controller_lease_recalls_total";
  const double recalls_before = Cluster::get().controller_metric(recalls);
  int wins_a = 0, wins_b = 0;
  auto expect_links = [&](const std::string& d, const std::map<std::string, int>& won_a,
                          const std::map<std::string, int>& won_b) {
    expect_links_of(a_ / d, b_ / d, "A", won_a);
    expect_links_of(a_ / d, b_ / d, "B", won_b);
  };

  for (int round = 0; round < kRounds && !HasFailure(); ++round) {
    const std::string d = fresh_name("r", round);
    // A makes the directory (and is granted its lease), with a file of each mount's
    // own to link from; B must see the directory before the race starts.
    ASSERT_EQ(::mkdir((a_ / d).c_str(), 0755), 0) << errno_text(errno);
    ASSERT_TRUE(eventually([&] { return present(b_ / d); }, kVisible)) << d;

    std::map<std::string, int> won_a, won_b;
    std::barrier start(2);
    auto racer = [&](const fs::path& dir, const std::string& who, std::map<std::string, int>& out,
                     bool reverse) {
      put(dir / ("own-" + who), who);
      start.arrive_and_wait();
      std::vector<std::string> order = names;
      if (reverse) std::reverse(order.begin(), order.end());
      for (const auto& name : order) out[name] = claim(dir, kind_of(name), name, who);
    };
    // Odd rounds claim in opposite orders (the two meet in the middle), even rounds in
    // the same order (every claim contended).
    std::thread ta(racer, a_ / d, "A", std::ref(won_a), false);
    std::thread tb(racer, b_ / d, "B", std::ref(won_b), round % 2 == 1);
    ta.join();
    tb.join();

    for (const auto& name : names) {
      int a = won_a[name], b = won_b[name];
      EXPECT_TRUE((a == 0 && b == EEXIST) || (a == EEXIST && b == 0))
          << d << "/" << name << ": A answered " << (a ? errno_text(std::abs(a)) : "success")
          << ", B " << (b ? errno_text(std::abs(b)) : "success") << " (exactly one must win)";
      (a == 0 ? wins_a : wins_b) += 1;
    }
    if (HasFailure()) break;

    // Both mounts list the same entries, and every name holds its winner's mark.
    std::set<std::string> want(names.begin(), names.end());
    want.insert({"own-A", "own-B"});
    for (const fs::path& dir : {a_ / d, b_ / d}) {
      EXPECT_TRUE(eventually([&] { return names_in(dir) == want; }, kVisible))
          << dir << " lists " << names_in(dir).size() << " entries, " << want.size() << " expected";
      for (const auto& name : names) {
        const std::string kind = kind_of(name);
        std::string winner = won_a[name] == 0 ? "A" : "B";
        std::string expect = kind == "dir" ? "dir" : winner;
        EXPECT_TRUE(eventually([&] { return holder(dir, kind, name) == expect; }, kVisible))
            << dir / name << " holds " << show(holder(dir, kind, name)) << ", " << expect
            << " won it";
      }
    }
    // A hard link's winner shows in the link counts of the two source files.
    expect_links(d, won_a, won_b);

    // Then both remove every name at once: again exactly one may succeed.
    std::map<std::string, int> gone_a, gone_b;
    std::barrier again(2);
    auto remover = [&](const fs::path& dir, std::map<std::string, int>& out, bool reverse) {
      again.arrive_and_wait();
      std::vector<std::string> order = names;
      if (reverse) std::reverse(order.begin(), order.end());
      for (const auto& name : order) {
        const fs::path p = dir / name;
        long r = kind_of(name) == "dir" ? ::rmdir(p.c_str()) : ::unlink(p.c_str());
        out[name] = r == 0 ? 0 : errno;
      }
    };
    std::thread ra(remover, a_ / d, std::ref(gone_a), round % 2 == 0);
    std::thread rb(remover, b_ / d, std::ref(gone_b), false);
    ra.join();
    rb.join();
    for (const auto& name : names) {
      int a = gone_a[name], b = gone_b[name];
      EXPECT_TRUE((a == 0 && b == ENOENT) || (a == ENOENT && b == 0))
          << d << "/" << name << ": removal on A answered " << (a ? errno_text(a) : "success")
          << ", on B " << (b ? errno_text(b) : "success") << " (exactly one must succeed)";
    }
    const std::set<std::string> left = {"own-A", "own-B"};
    for (const fs::path& dir : {a_ / d, b_ / d}) {
      EXPECT_TRUE(eventually([&] { return names_in(dir) == left; }, kVisible))
          << dir << " lists " << names_in(dir).size() << " entries after the removals, 2 expected";
    }
    expect_links(d, {}, {});
  }
  // The race ran where it was meant to: B's first add into each directory recalled A's
  // lease on it.
  const double recalled = Cluster::get().controller_metric(recalls) - recalls_before;
  std::printf("races: %d rounds, names won by A %d, by B %d, leases recalled %.0f\n", kRounds,
              wins_a, wins_b, recalled);
  EXPECT_GE(recalled, kRounds) << "the directories A made were not leased to it";
}

// Two directories, each moved into the other from a different mount at the same
// moment (A: p -> q/p, B: q -> p/q): one move may win, never both, for that would
// detach both from the tree in a cycle. Whatever won, both mounts see one tree. Each
// mount made the directory the other moves into, so both moves first recall a lease.
TEST_F(TwoMountRaces, CrossedDirectoryMovesFromTwoMountsNeverMakeACycle) {
  constexpr int kMoves = 60;
  int won_a = 0, won_b = 0;
  for (int round = 0; round < kMoves && !HasFailure(); ++round) {
    const std::string d = fresh_name("m", round);
    ASSERT_EQ(::mkdir((a_ / d).c_str(), 0755), 0) << errno_text(errno);
    ASSERT_EQ(::mkdir((a_ / d / "p").c_str(), 0755), 0) << errno_text(errno);
    ASSERT_TRUE(eventually([&] { return present(b_ / d / "p"); }, kVisible));
    // q is B's, so that each move must first recall the other mount's lease on its target.
    ASSERT_EQ(::mkdir((b_ / d / "q").c_str(), 0755), 0) << errno_text(errno);
    ASSERT_TRUE(eventually([&] { return present(a_ / d / "q"); }, kVisible));
    int ra = 0, rb = 0;
    std::barrier start(2);
    std::thread ta([&] {
      start.arrive_and_wait();
      ra = ::rename((a_ / d / "p").c_str(), (a_ / d / "q" / "p").c_str()) == 0 ? 0 : errno;
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      rb = ::rename((b_ / d / "q").c_str(), (b_ / d / "p" / "q").c_str()) == 0 ? 0 : errno;
    });
    ta.join();
    tb.join();
    EXPECT_TRUE((ra == 0) != (rb == 0))
        << d << ": A's move answered " << (ra ? errno_text(ra) : "success") << ", B's "
        << (rb ? errno_text(rb) : "success") << " (exactly one may win)";
    EXPECT_TRUE(ra == 0 || ra == ENOENT || ra == EINVAL) << d << ": A's move: " << errno_text(ra);
    EXPECT_TRUE(rb == 0 || rb == ENOENT || rb == EINVAL) << d << ": B's move: " << errno_text(rb);
    if (HasFailure()) break;
    (ra == 0 ? won_a : won_b) += 1;
    // The winner's move is what both mounts see: one directory on top, the other in it.
    const std::string top = ra == 0 ? "q" : "p", inner = ra == 0 ? "p" : "q";
    for (const fs::path& dir : {a_ / d, b_ / d}) {
      EXPECT_TRUE(eventually(
          [&] { return names_in(dir) == std::set<std::string>{top} && present(dir / top / inner); },
          kVisible))
          << dir << " lists " << names_in(dir).size() << " entries; " << top << "/" << inner
          << " expected";
      struct stat st {};
      EXPECT_TRUE(eventually(
          [&] { return ::lstat((dir / top).c_str(), &st) == 0 && st.st_nlink == 3; }, kVisible))
          << dir / top << " has " << st.st_nlink << " links, 3 expected";
    }
  }
  std::printf("crossed moves: %d rounds, won by A %d, by B %d\n", kMoves, won_a, won_b);
}

}  // namespace
}  // namespace zhsm::test
