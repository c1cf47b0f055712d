#include "controller/dir_leases.h"

#include <gtest/gtest.h>

#include <vector>

namespace zhsm {
namespace {

using namespace std::chrono_literals;
using Clock = DirLeases::Clock;

constexpr uint64_t kA = 1, kB = 2;  // two clients
constexpr uint64_t kDir = 100;

DirLeases make(Clock::duration lease = 5s, size_t per_client = 1024, size_t ring = 4096) {
  return DirLeases(DirLeases::Options{lease, per_client, ring});
}

TEST(DirLeasesTest, AnAddByTheHolderGoesAhead) {
  auto leases = make();
  const auto t0 = Clock::now();
  ASSERT_TRUE(leases.grant(kDir, kA, leases.epoch(), t0));
  EXPECT_FALSE(leases.begin_add(kDir, kA, t0, [] { FAIL() << "no wait for the holder"; }));
  EXPECT_EQ(leases.held(), 1u);
}

TEST(DirLeasesTest, AnAddByAnotherClientRecallsAndWaitsForTheRelease) {
  auto leases = make();
  const auto t0 = Clock::now();
  ASSERT_TRUE(leases.grant(kDir, kA, leases.epoch(), t0));
  int polled = 0, released = 0;
  leases.wait_recall(kA, [&] { ++polled; });
  auto until = leases.begin_add(kDir, kB, t0 + 1s, [&] { ++released; });
  ASSERT_TRUE(until);
  EXPECT_EQ(*until, t0 + 5s);
  EXPECT_EQ(polled, 1) << "the holder's waiting poll is woken";
  EXPECT_EQ(leases.recalled(kA), std::vector<uint64_t>{kDir});
  // A poll that still keeps it (sent before the holder saw the recall) renews nothing and
  // is told again.
  std::vector<uint64_t> keep{kDir};
  EXPECT_EQ(leases.poll(kA, keep, {}, t0 + 2s), std::vector<uint64_t>{kDir});
  EXPECT_EQ(released, 0);
  // The release wakes the adder, and the next add goes ahead.
  std::vector<uint64_t> release{kDir};
  EXPECT_TRUE(leases.poll(kA, {}, release, t0 + 2s).empty());
  EXPECT_EQ(released, 1);
  EXPECT_FALSE(leases.begin_add(kDir, kB, t0 + 2s, [] {}));
  EXPECT_EQ(leases.held(), 0u);
  EXPECT_EQ(leases.recalls(), 1u);
}

TEST(DirLeasesTest, AHolderThatDoesNotAnswerDelaysAnAddByTheLeaseTimeAtMost) {
  auto leases = make();
  const auto t0 = Clock::now();
  ASSERT_TRUE(leases.grant(kDir, kA, leases.epoch(), t0));
  auto until = leases.begin_add(kDir, kB, t0 + 1s, [] {});
  ASSERT_TRUE(until);
  EXPECT_EQ(*until, t0 + 5s);
  EXPECT_FALSE(leases.begin_add(kDir, kB, t0 + 5s, [] {})) << "expired at its time";
  EXPECT_EQ(leases.held(), 0u);
}

TEST(DirLeasesTest, APollRenewsWhatItKeepsAndReportsWhatItDoesNotHold) {
  auto leases = make();
  const auto t0 = Clock::now();
  ASSERT_TRUE(leases.grant(kDir, kA, leases.epoch(), t0));
  std::vector<uint64_t> keep{kDir, 7};
  EXPECT_EQ(leases.poll(kA, keep, {}, t0 + 4s), std::vector<uint64_t>{7});
  // Renewed to t0 + 9 s: an add at t0 + 8 s still waits.
  auto until = leases.begin_add(kDir, kB, t0 + 8s, [] {});
  ASSERT_TRUE(until);
  EXPECT_EQ(*until, t0 + 9s);
  // Another client cannot renew or release it.
  std::vector<uint64_t> mine{kDir};
  EXPECT_EQ(leases.poll(kB, mine, mine, t0 + 8s), std::vector<uint64_t>{kDir});
  EXPECT_EQ(leases.held(), 1u);
}

TEST(DirLeasesTest, AnExpiredLeaseIsNotRenewed) {
  auto leases = make();
  const auto t0 = Clock::now();
  ASSERT_TRUE(leases.grant(kDir, kA, leases.epoch(), t0));
  std::vector<uint64_t> keep{kDir};
  EXPECT_EQ(leases.poll(kA, keep, {}, t0 + 6s), std::vector<uint64_t>{kDir});
  EXPECT_EQ(leases.held(), 0u);
}

TEST(DirLeasesTest, NoGrantWhenAnotherClientAddedSinceTheMkdirBegan) {
  auto leases = make();
  const auto t0 = Clock::now();
  const uint64_t since = leases.epoch();
  EXPECT_FALSE(leases.begin_add(kDir, kB, t0, [] {}));  // B found the new directory first
  EXPECT_FALSE(leases.grant(kDir, kA, since, t0));
  // The holder's own adds, and others' adds elsewhere, do not stand in the way.
  const uint64_t since2 = leases.epoch();
  EXPECT_FALSE(leases.begin_add(kDir + 1, kA, t0, [] {}));
  EXPECT_FALSE(leases.begin_add(kDir + 2, kB, t0, [] {}));
  EXPECT_TRUE(leases.grant(kDir + 1, kA, since2, t0));
}

TEST(DirLeasesTest, NoGrantWhenTooManyAddsBeganSinceToTell) {
  auto leases = make(5s, 1024, 8);
  const auto t0 = Clock::now();
  const uint64_t since = leases.epoch();
  for (uint64_t i = 0; i < 9; ++i) leases.begin_add(500 + i, kB, t0, [] {});
  EXPECT_FALSE(leases.grant(kDir, kA, since, t0));
}

TEST(DirLeasesTest, AClientHoldsItsShareAtMost) {
  auto leases = make(5s, 2);
  const auto t0 = Clock::now();
  EXPECT_TRUE(leases.grant(1, kA, leases.epoch(), t0));
  EXPECT_TRUE(leases.grant(2, kA, leases.epoch(), t0));
  EXPECT_FALSE(leases.grant(3, kA, leases.epoch(), t0));
  EXPECT_TRUE(leases.grant(3, kB, leases.epoch(), t0));
  std::vector<uint64_t> release{1};
  leases.poll(kA, {}, release, t0);
  EXPECT_TRUE(leases.grant(4, kA, leases.epoch(), t0));
}

TEST(DirLeasesTest, ALaterPollReplacesTheWaitingOne) {
  auto leases = make();
  int first = 0, second = 0;
  leases.wait_recall(kA, [&] { ++first; });
  const uint64_t id = leases.wait_recall(kA, [&] { ++second; });
  EXPECT_EQ(first, 1) << "the earlier poll is answered";
  leases.stop_waiting(kA, id);
  const auto t0 = Clock::now();
  ASSERT_TRUE(leases.grant(kDir, kA, leases.epoch(), t0));
  leases.begin_add(kDir, kB, t0, [] {});
  EXPECT_EQ(second, 0) << "a poll that stopped waiting is not woken";
}

TEST(DirLeasesTest, HeldAddsWaitForTheEndOfTheHold) {
  auto leases = make();
  const auto t0 = Clock::now();
  leases.hold_adds_until(t0 + 5s);
  int woken = 0;
  auto until = leases.begin_add(kDir, kB, t0 + 1s, [&] { ++woken; });
  ASSERT_TRUE(until);
  EXPECT_EQ(*until, t0 + 5s);
  EXPECT_FALSE(leases.begin_add(kDir, kB, t0 + 5s, [] {})) << "the hold is over";
  EXPECT_EQ(woken, 0);
}

TEST(DirLeasesTest, OffMeansNoGrantAndNoWait) {
  auto leases = make(Clock::duration::zero());
  const auto t0 = Clock::now();
  EXPECT_FALSE(leases.enabled());
  EXPECT_FALSE(leases.grant(kDir, kA, leases.epoch(), t0));
  EXPECT_FALSE(leases.begin_add(kDir, kB, t0, [] {}));
}

}  // namespace
}  // namespace zhsm
