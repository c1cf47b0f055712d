// ReleaseBatcher: tokens closed together go in one batch after the delay, a full batch
// goes at once, flush() and the destructor send what is pending.
#include "client-fuse/release_batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace zhsm::fuse {
namespace {

using namespace std::chrono_literals;

struct Sent {
  std::mutex mu;
  std::vector<std::vector<uint64_t>> batches;
  ReleaseBatcher::Send sender() {
    return [this](const std::vector<uint64_t>& b) {
      std::lock_guard lock(mu);
      batches.push_back(b);
    };
  }
  std::vector<std::vector<uint64_t>> get() {
    std::lock_guard lock(mu);
    return batches;
  }
};

TEST(ReleaseBatcher, FlushSendsWhatGatheredInOneBatch) {
  Sent sent;
  ReleaseBatcher b(sent.sender(), 60s, 100);
  b.add(1);
  b.add(0);  // no token: nothing to release
  b.add(2);
  b.add(3);
  EXPECT_EQ(b.pending(), 3u);
  EXPECT_TRUE(sent.get().empty());  // the delay has not passed
  b.flush();
  EXPECT_EQ(sent.get(), (std::vector<std::vector<uint64_t>>{{1, 2, 3}}));
  EXPECT_EQ(b.pending(), 0u);
  b.flush();  // nothing pending: returns at once, sends nothing
  EXPECT_EQ(sent.get().size(), 1u);
}

TEST(ReleaseBatcher, AFullBatchGoesAtOnce) {
  Sent sent;
  ReleaseBatcher b(sent.sender(), 60s, 2);
  for (uint64_t t = 1; t <= 5; ++t) b.add(t);
  for (int i = 0; i < 500 && sent.get().size() < 2; ++i) std::this_thread::sleep_for(10ms);
  auto got = sent.get();
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[0], (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(got[1], (std::vector<uint64_t>{3, 4}));
  b.flush();
  EXPECT_EQ(sent.get().back(), (std::vector<uint64_t>{5}));
}

TEST(ReleaseBatcher, TheDelayEndsABatch) {
  Sent sent;
  ReleaseBatcher b(sent.sender(), 20ms, 100);
  b.add(7);
  b.add(8);
  for (int i = 0; i < 500 && sent.get().empty(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(sent.get(), (std::vector<std::vector<uint64_t>>{{7, 8}}));
  EXPECT_EQ(b.pending(), 0u);
}

TEST(ReleaseBatcher, TheEndSendsWhatIsPending) {
  Sent sent;
  {
    ReleaseBatcher b(sent.sender(), 60s, 100);
    b.add(4);
    b.add(5);
  }
  EXPECT_EQ(sent.get(), (std::vector<std::vector<uint64_t>>{{4, 5}}));
}

TEST(ReleaseBatcher, AFailedSendIsNotRetriedAndDoesNotStopTheBatcher) {
  std::atomic<int> calls{0};
  ReleaseBatcher b([&](const std::vector<uint64_t>&) {
    ++calls;
    throw std::runtime_error("controller gone");
  }, 60s, 100);
  b.add(1);
  b.flush();
  b.add(2);
  b.flush();
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(b.pending(), 0u);
}

}  // namespace
}  // namespace zhsm::fuse
