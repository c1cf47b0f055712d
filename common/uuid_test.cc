// Unit tests of UUID parsing, formatting and the shard path.
#include "common/uuid.h"

#include <gtest/gtest.h>

namespace zhsm {
namespace {

TEST(Uuid, RoundTripsThroughText) {
  Uuid a = Uuid::random();
  auto b = Uuid::parse(a.str());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a, *b);
  EXPECT_FALSE(a.is_nil());
}

TEST(Uuid, RejectsMalformedText) {
  EXPECT_FALSE(Uuid::parse("").has_value());
  EXPECT_FALSE(Uuid::parse("not-a-uuid").has_value());
  EXPECT_FALSE(Uuid::parse("0123456789abcdef0123456789abcdef0123").has_value());
}

TEST(Uuid, ShardPathUsesFirstTwoBytes) {
  auto id = *Uuid::parse("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
  EXPECT_EQ(shard_path("/b", id).string(), "/b/0a/1b/2c3d4e5f60718293a4b5c6d7e8f9");
}

}  // namespace
}  // namespace zhsm
