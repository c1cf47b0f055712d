// XattrCache: absence is known for the timeout and no longer, per name or for a
// whole inode, forgotten on change, and bounded.
#include "client-fuse/xattr_cache.h"

#include <gtest/gtest.h>

namespace zhsm::fuse {
namespace {

using namespace std::chrono_literals;
using Clock = XattrCache::Clock;

TEST(XattrCache, KnowsNothingAtFirst) {
  XattrCache c(1s, 16);
  auto t = Clock::now();
  EXPECT_FALSE(c.known_absent(7, "security.capability", t));
  EXPECT_FALSE(c.known_none(7, t));
}

TEST(XattrCache, AbsentNameIsKnownForTheTimeoutOnly) {
  XattrCache c(1s, 16);
  auto t = Clock::now();
  c.note_absent(7, "security.capability", t, c.epoch());
  EXPECT_TRUE(c.known_absent(7, "security.capability", t + 999ms));
  EXPECT_FALSE(c.known_absent(7, "security.capability", t + 1s));
  EXPECT_FALSE(c.known_absent(7, "user.other", t));
  EXPECT_FALSE(c.known_absent(8, "security.capability", t));
  EXPECT_FALSE(c.known_none(7, t)) << "one absent name says nothing of the others";
}

TEST(XattrCache, AnInodeWithNoneHasNoName) {
  XattrCache c(1s, 16);
  auto t = Clock::now();
  c.note_none(7, t);
  EXPECT_TRUE(c.known_none(7, t + 500ms));
  EXPECT_TRUE(c.known_absent(7, "user.anything", t + 500ms));
  EXPECT_FALSE(c.known_none(7, t + 1s));
  EXPECT_FALSE(c.known_absent(7, "user.anything", t + 1s));
}

TEST(XattrCache, ALaterAnswerExtendsTheName) {
  XattrCache c(1s, 16);
  auto t = Clock::now();
  c.note_absent(7, "a", t, c.epoch());
  c.note_absent(7, "a", t + 800ms, c.epoch());
  EXPECT_TRUE(c.known_absent(7, "a", t + 1500ms));
}

TEST(XattrCache, AnAnswerFromBeforeAForgetIsIgnored) {
  XattrCache c(1s, 16);
  auto t = Clock::now();
  uint64_t asked = c.epoch();
  c.forget(9);  // a setxattr of this mount finished while the question was out
  c.note_absent(7, "a", t, asked);
  EXPECT_FALSE(c.known_absent(7, "a", t));
}

TEST(XattrCache, AnEmptyListingIsKnownForTheTimeoutUnlessAForgetCame) {
  XattrCache c(1s, 16);
  auto t = Clock::now();
  c.note_listed_none(7, t, c.epoch());
  EXPECT_TRUE(c.known_none(7, t + 500ms));
  EXPECT_TRUE(c.known_absent(7, "security.capability", t + 500ms));
  EXPECT_FALSE(c.known_none(7, t + 1s));
  uint64_t asked = c.epoch();
  c.forget(9);  // a setxattr of this mount finished while the listing was out
  c.note_listed_none(8, t, asked);
  EXPECT_FALSE(c.known_none(8, t));
}

TEST(XattrCache, ForgetDropsEverythingOfTheInode) {
  XattrCache c(1s, 16);
  auto t = Clock::now();
  c.note_none(7, t);
  c.note_absent(8, "a", t, c.epoch());
  c.forget(7);
  EXPECT_FALSE(c.known_absent(7, "a", t));
  EXPECT_FALSE(c.known_none(7, t));
  EXPECT_TRUE(c.known_absent(8, "a", t));
}

TEST(XattrCache, KeepsABoundedNumberOfNamesPerInode) {
  XattrCache c(1s, 16);
  auto t = Clock::now();
  for (size_t i = 0; i < XattrCache::kNamesPerInode; ++i)
    c.note_absent(7, "user.n" + std::to_string(i), t, c.epoch());
  EXPECT_TRUE(c.known_absent(7, "user.n0", t));
  c.note_absent(7, "user.one-more", t, c.epoch());  // past the bound: the list starts afresh
  EXPECT_TRUE(c.known_absent(7, "user.one-more", t));
  EXPECT_FALSE(c.known_absent(7, "user.n0", t));
}

TEST(XattrCache, ZeroTimeoutKnowsNothing) {
  XattrCache c(0s, 16);
  auto t = Clock::now();
  c.note_none(7, t);
  c.note_absent(7, "a", t, c.epoch());
  EXPECT_FALSE(c.known_absent(7, "a", t));
  EXPECT_EQ(c.size(), 0u);
}

TEST(XattrCache, StaysWithinCapacityExpiredFirst) {
  XattrCache c(1s, 4);
  auto t = Clock::now();
  c.note_absent(1, "a", t, c.epoch());
  c.note_absent(2, "a", t, c.epoch());
  c.note_absent(3, "a", t + 2s, c.epoch());
  c.note_absent(4, "a", t + 2s, c.epoch());
  c.note_absent(5, "a", t + 2s, c.epoch());  // full: 1 and 2 have expired and go
  EXPECT_EQ(c.size(), 3u);
  EXPECT_TRUE(c.known_absent(3, "a", t + 2s));
  EXPECT_TRUE(c.known_absent(5, "a", t + 2s));
  c.note_absent(6, "a", t + 2s, c.epoch());
  c.note_absent(7, "a", t + 2s, c.epoch());  // full of live entries: all go, the new one stays
  EXPECT_LE(c.size(), 4u);
  EXPECT_TRUE(c.known_absent(7, "a", t + 2s));
}

}  // namespace
}  // namespace zhsm::fuse
