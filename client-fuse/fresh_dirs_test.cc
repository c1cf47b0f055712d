// FreshDirs: a directory's reported attributes answer one getattr within the timeout,
// the newer version wins, forget and the capacity drop entries.
#include "client-fuse/fresh_dirs.h"

#include <gtest/gtest.h>

namespace zhsm::fuse {
namespace {

using namespace std::chrono_literals;
using Clock = FreshDirs::Clock;

struct stat dir_stat(uint64_t ino, nlink_t nlink) {
  struct stat st {};
  st.st_ino = ino;
  st.st_mode = S_IFDIR | 0755;
  st.st_nlink = nlink;
  return st;
}

TEST(FreshDirs, AnswersOnceWithinTheTimeout) {
  FreshDirs f(1s, 16);
  auto t = Clock::now();
  f.note(dir_stat(5, 3), 7, t);
  auto got = f.take(5, t + 999ms);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->st.st_nlink, 3u);
  EXPECT_EQ(got->left, 1ms) << "the kernel may keep it for the rest of the timeout only";
  EXPECT_FALSE(f.take(5, t + 999ms)) << "an entry answers one getattr";
  EXPECT_FALSE(f.take(6, t)) << "nothing was noted for another inode";
}

TEST(FreshDirs, ExpiresAfterTheTimeout) {
  FreshDirs f(1s, 16);
  auto t = Clock::now();
  f.note(dir_stat(5, 3), 7, t);
  EXPECT_FALSE(f.take(5, t + 1s));
  EXPECT_EQ(f.size(), 0u) << "an expired entry is dropped when asked for";
}

TEST(FreshDirs, TheHigherVersionWins) {
  FreshDirs f(1s, 16);
  auto t = Clock::now();
  f.note(dir_stat(5, 4), 9, t);
  f.note(dir_stat(5, 3), 8, t);  // an older change's answer arriving late
  EXPECT_EQ(f.take(5, t)->st.st_nlink, 4u);
  f.note(dir_stat(5, 4), 9, t);
  f.note(dir_stat(5, 5), 10, t);
  EXPECT_EQ(f.take(5, t)->st.st_nlink, 5u);
}

TEST(FreshDirs, ForgetAndClearDropEntries) {
  FreshDirs f(1s, 16);
  auto t = Clock::now();
  f.note(dir_stat(5, 3), 7, t);
  f.note(dir_stat(6, 3), 7, t);
  f.forget(5);
  EXPECT_FALSE(f.take(5, t));
  f.note(dir_stat(5, 3), 7, t);
  f.clear();
  EXPECT_FALSE(f.take(5, t));
  EXPECT_FALSE(f.take(6, t));
}

TEST(FreshDirs, ZeroTimeoutKeepsNothing) {
  FreshDirs f(0s, 16);
  auto t = Clock::now();
  f.note(dir_stat(5, 3), 7, t);
  EXPECT_EQ(f.size(), 0u);
  EXPECT_FALSE(f.take(5, t));
}

TEST(FreshDirs, StaysWithinItsCapacity) {
  FreshDirs f(1s, 4);
  auto t = Clock::now();
  for (uint64_t ino = 1; ino <= 10; ++ino) f.note(dir_stat(ino, 2), 1, t);
  EXPECT_LE(f.size(), 4u);
  EXPECT_TRUE(f.take(10, t)) << "the newest entry survives the drop";
}

}  // namespace
}  // namespace zhsm::fuse
