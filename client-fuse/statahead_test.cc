// Statahead: a directory is read ahead only after enough found lookups under one
// changes value; its listing answers only under the value it was asked under, only
// for the timeout, and only names it holds; it stays bounded.
#include "client-fuse/statahead.h"

#include <gtest/gtest.h>

namespace zhsm::fuse {
namespace {

using namespace std::chrono_literals;
using Clock = Statahead::Clock;

Statahead::Options options(size_t trigger = 3, size_t max_dirs = 2) {
  return Statahead::Options{1s, trigger, 100, max_dirs};
}

std::vector<Statahead::Entry> listing(std::initializer_list<std::pair<const char*, ino_t>> names) {
  std::vector<Statahead::Entry> out;
  for (auto [name, ino] : names) {
    Statahead::Entry e{name, {}};
    e.st.st_ino = ino;
    e.st.st_mode = S_IFREG | 0644;
    out.push_back(e);
  }
  return out;
}

TEST(Statahead, ReadsAheadAfterTheTriggerOnceAtATime) {
  Statahead s(options(3));
  auto t = Clock::now();
  EXPECT_FALSE(s.note_found(1, 0, t));
  EXPECT_FALSE(s.note_found(1, 0, t));
  EXPECT_TRUE(s.note_found(1, 0, t));
  EXPECT_FALSE(s.note_found(1, 0, t)) << "a read ahead is under way";
  s.abandon(1);
  EXPECT_FALSE(s.note_found(1, 0, t));
  EXPECT_FALSE(s.note_found(1, 0, t));
  EXPECT_TRUE(s.note_found(1, 0, t)) << "tried again after a failure";
}

TEST(Statahead, AChangeInBetweenStartsTheCountAgain) {
  Statahead s(options(3));
  auto t = Clock::now();
  EXPECT_FALSE(s.note_found(1, 0, t));
  EXPECT_FALSE(s.note_found(1, 0, t));
  EXPECT_FALSE(s.note_found(1, 2, t));  // this mount changed something meanwhile
  EXPECT_FALSE(s.note_found(1, 2, t));
  EXPECT_TRUE(s.note_found(1, 2, t));
}

TEST(Statahead, AnswersNamesItHoldsForTheTimeoutOnly) {
  Statahead s(options());
  auto t = Clock::now();
  s.fill(1, listing({{"a", 10}, {"b", 11}}), 4, t);
  auto hit = s.find(1, "b", 4, t + 300ms);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->st.st_ino, 11u);
  EXPECT_EQ(hit->age, 300ms);
  EXPECT_FALSE(s.find(1, "c", 4, t)) << "a name not listed goes to the controller";
  EXPECT_FALSE(s.find(2, "a", 4, t)) << "another directory";
  EXPECT_FALSE(s.find(1, "a", 4, t + 1s));
  EXPECT_EQ(s.listings(), 0u) << "an expired listing is dropped";
}

TEST(Statahead, AListingCountsOnlyUnderTheValueItWasAskedUnder) {
  Statahead s(options());
  auto t = Clock::now();
  s.fill(1, listing({{"a", 10}}), 4, t);
  EXPECT_FALSE(s.find(1, "a", 5, t)) << "a change of this mount was sent since";
  EXPECT_FALSE(s.find(1, "a", 4, t)) << "and the listing is gone for good";
}

TEST(Statahead, ListedDirectoriesAreNotReadAgainWhileTheyCount) {
  Statahead s(options(1));
  auto t = Clock::now();
  s.fill(1, listing({{"a", 10}}), 0, t);
  EXPECT_FALSE(s.note_found(1, 0, t)) << "a name past the part the listing holds";
  EXPECT_TRUE(s.note_found(1, 0, t + 1s)) << "after the timeout";
}

TEST(Statahead, KeepsAtMostMaxDirsListingsTheLeastRecentGoesFirst) {
  Statahead s(options(3, 2));
  auto t = Clock::now();
  s.fill(1, listing({{"a", 10}}), 0, t);
  s.fill(2, listing({{"b", 20}}), 0, t);
  EXPECT_TRUE(s.find(1, "a", 0, t));  // 1 is now the most recent
  s.fill(3, listing({{"c", 30}}), 0, t);
  EXPECT_EQ(s.listings(), 2u);
  EXPECT_TRUE(s.find(1, "a", 0, t));
  EXPECT_FALSE(s.find(2, "b", 0, t));
  EXPECT_TRUE(s.find(3, "c", 0, t));
}

TEST(Statahead, ForgettingAnInodeDropsOnlyTheListingsThatHoldIt) {
  Statahead s(options(3, 4));
  auto t = Clock::now();
  s.fill(1, listing({{"a", 10}, {"b", 11}}), 4, t);
  s.fill(2, listing({{"c", 12}}), 4, t);
  s.forget_inode(11);
  EXPECT_FALSE(s.find(1, "b", 4, t)) << "the name of the forgotten inode";
  EXPECT_FALSE(s.find(1, "a", 4, t)) << "the whole listing that held it goes";
  EXPECT_TRUE(s.find(2, "c", 4, t)) << "another directory's listing stays";
  EXPECT_EQ(s.listings(), 1u);
  s.forget_inode(99);
  EXPECT_EQ(s.listings(), 1u) << "an inode no listing holds changes nothing";
}

TEST(Statahead, ZeroTriggerOrTimeoutNeverReadsAhead) {
  Statahead off(options(0));
  EXPECT_FALSE(off.note_found(1, 0, Clock::now()));
  Statahead no_ttl(Statahead::Options{Clock::duration::zero(), 1, 100, 2});
  EXPECT_FALSE(no_ttl.note_found(1, 0, Clock::now()));
}

}  // namespace
}  // namespace zhsm::fuse
