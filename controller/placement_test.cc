// Unit tests of the write-target placement policy.
#include <gtest/gtest.h>

#include "controller/placement.h"

namespace zhsm {
namespace {

BackendCandidate candidate(uint8_t id, uint64_t free_bytes, int64_t last_heartbeat_ms) {
  BackendCandidate c;
  c.where.backend.bytes[15] = id;
  c.where.backend_name = "b" + std::to_string(id);
  c.free_bytes = free_bytes;
  c.last_heartbeat_ms = last_heartbeat_ms;
  return c;
}

TEST(Placement, MostFreeLiveBackendWins) {
  std::vector<BackendCandidate> c = {candidate(1, 100, 1000), candidate(2, 500, 1000),
                                     candidate(3, 900, 0)};  // 3 is silent too long
  auto t = choose_write_target(c, 5000, 4000);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->backend_name, "b2");
  EXPECT_EQ(t->state, proto::CopyState::TARGET);
}

TEST(Placement, NoneWhenAllFailedOrFull) {
  EXPECT_FALSE(choose_write_target({}, 0, 1000));
  EXPECT_FALSE(choose_write_target({candidate(1, 100, 0)}, 5000, 1000));
  EXPECT_FALSE(choose_write_target({candidate(1, 0, 5000)}, 5000, 1000));
}

TEST(Placement, TiesGoToLowerUuid) {
  auto t = choose_write_target({candidate(7, 10, 0), candidate(3, 10, 0)}, 0, 1000);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->backend_name, "b3");
}

TEST(Placement, Liveness) {
  EXPECT_TRUE(server_live(1000, 11000, 10000));
  EXPECT_FALSE(server_live(1000, 11001, 10000));
}

}  // namespace
}  // namespace zhsm
