#include "client-fuse/dir_leases.h"

#include <gtest/gtest.h>

#include <vector>

namespace zhsm::fuse {
namespace {

using namespace std::chrono_literals;
using Clock = DirLeases::Clock;

constexpr uint64_t kDir = 10, kConn = 1;

TEST(DirLeasesTest, ANameNotAddedHereIsMissingWhileTheLeaseLasts) {
  DirLeases leases(8, 100);
  const auto t0 = Clock::now();
  EXPECT_FALSE(leases.known_missing(kDir, "a", t0, kConn)) << "not leased";
  leases.grant(kDir, t0, 5s, kConn);
  EXPECT_TRUE(leases.known_missing(kDir, "a", t0 + 1s, kConn));
  leases.added(kDir, "a");
  EXPECT_FALSE(leases.known_missing(kDir, "a", t0 + 1s, kConn)) << "added here: ask";
  EXPECT_TRUE(leases.known_missing(kDir, "b", t0 + 1s, kConn));
  leases.removed(kDir, "a");
  EXPECT_TRUE(leases.known_missing(kDir, "a", t0 + 1s, kConn));
  EXPECT_FALSE(leases.known_missing(kDir, "b", t0 + 5s, kConn)) << "past its time";
  EXPECT_FALSE(leases.known_missing(kDir, "b", t0 + 1s, kConn + 1)) << "another connection";
  EXPECT_FALSE(leases.known_missing(kDir, "b", t0 + 1s, 0)) << "no connection";
}

TEST(DirLeasesTest, APollRenewsWhatItKeptAndEndsWhatItWasToldToDrop) {
  DirLeases leases(8, 100);
  const auto t0 = Clock::now();
  leases.grant(1, t0, 5s, kConn);
  leases.grant(2, t0, 5s, kConn);
  auto poll = leases.next_poll(t0 + 1s);
  std::sort(poll.keep.begin(), poll.keep.end());
  EXPECT_EQ(poll.keep, (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(poll.release.empty());
  std::vector<uint64_t> drop{2};
  leases.polled(poll, drop, t0 + 1s, 5s, kConn);
  EXPECT_TRUE(leases.known_missing(1, "x", t0 + 5500ms, kConn)) << "renewed from when it was sent";
  EXPECT_FALSE(leases.known_missing(2, "x", t0 + 2s, kConn)) << "recalled";
  auto next = leases.next_poll(t0 + 2s);
  EXPECT_EQ(next.keep, std::vector<uint64_t>{1});
  EXPECT_EQ(next.release, std::vector<uint64_t>{2}) << "given back with the next poll";
}

TEST(DirLeasesTest, ARenewalOnAnotherConnectionEndsTheLease) {
  DirLeases leases(8, 100);
  const auto t0 = Clock::now();
  leases.grant(kDir, t0, 5s, kConn);
  auto poll = leases.next_poll(t0);
  leases.polled(poll, {}, t0, 5s, kConn + 1);
  EXPECT_EQ(leases.size(), 0u);
}

TEST(DirLeasesTest, AFailedPollOrAnUnknownOutcomeEndsLeases) {
  DirLeases leases(8, 100);
  const auto t0 = Clock::now();
  leases.grant(1, t0, 5s, kConn);
  leases.grant(2, t0, 5s, kConn);
  leases.end(1);  // an add into it failed
  EXPECT_FALSE(leases.known_missing(1, "x", t0, kConn));
  auto poll = leases.next_poll(t0);
  leases.poll_failed(poll);
  EXPECT_EQ(leases.size(), 0u);
  auto again = leases.next_poll(t0);
  std::sort(again.release.begin(), again.release.end());
  EXPECT_EQ(again.release, (std::vector<uint64_t>{1, 2}));
}

TEST(DirLeasesTest, ExpiredLeasesEndBeforeAPoll) {
  DirLeases leases(8, 100);
  const auto t0 = Clock::now();
  leases.grant(kDir, t0, 5s, kConn);
  auto poll = leases.next_poll(t0 + 6s);
  EXPECT_TRUE(poll.keep.empty());
  EXPECT_EQ(poll.release, std::vector<uint64_t>{kDir});
  EXPECT_FALSE(leases.any());
}

TEST(DirLeasesTest, TheLeastRecentlyUsedEndsWhenFullAndTooManyNamesEndOne) {
  DirLeases leases(2, 3);
  const auto t0 = Clock::now();
  leases.grant(1, t0, 5s, kConn);
  leases.grant(2, t0, 5s, kConn);
  EXPECT_TRUE(leases.known_missing(1, "x", t0, kConn));  // 1 used last
  leases.grant(3, t0, 5s, kConn);
  EXPECT_FALSE(leases.known_missing(2, "x", t0, kConn));
  EXPECT_TRUE(leases.known_missing(1, "x", t0, kConn));
  for (const char* n : {"a", "b", "c"}) leases.added(1, n);
  leases.added(1, "d");  // past the names this mount keeps
  EXPECT_FALSE(leases.known_missing(1, "x", t0, kConn));
  EXPECT_TRUE(leases.known_missing(3, "x", t0, kConn));
  auto all = leases.end_all();
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<uint64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace zhsm::fuse
