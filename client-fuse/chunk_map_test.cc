// Chunk-range mapping and the inline decision, including offsets past 4 GiB and
// near 2^64.
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "client-fuse/chunk_map.h"

namespace zhsm::fuse {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(ChunkMap, EmptyRange) { EXPECT_TRUE(map_range(5, 0, 16 * kMiB).empty()); }

TEST(ChunkMap, InsideOneChunk) {
  auto p = map_range(100, 50, 16 * kMiB);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], (ChunkPiece{0, 100, 50, 0}));
}

TEST(ChunkMap, CrossesBoundary) {
  auto p = map_range(16 * kMiB - 10, 30, 16 * kMiB);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], (ChunkPiece{0, 16 * kMiB - 10, 10, 0}));
  EXPECT_EQ(p[1], (ChunkPiece{1, 0, 20, 10}));
}

TEST(ChunkMap, ExactChunk) {
  auto p = map_range(32 * kMiB, 16 * kMiB, 16 * kMiB);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], (ChunkPiece{2, 0, 16 * kMiB, 0}));
}

TEST(ChunkMap, MaxPieceSplits) {
  auto p = map_range(kMiB, 10 * kMiB, 16 * kMiB, 4 * kMiB);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], (ChunkPiece{0, kMiB, 4 * kMiB, 0}));
  EXPECT_EQ(p[1], (ChunkPiece{0, 5 * kMiB, 4 * kMiB, 4 * kMiB}));
  EXPECT_EQ(p[2], (ChunkPiece{0, 9 * kMiB, 2 * kMiB, 8 * kMiB}));
}

TEST(ChunkMap, PastFourGiB) {
  uint64_t off = 5ull << 30;  // 5 GiB
  auto p = map_range(off + 3, 7, 16 * kMiB);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].index, off / (16 * kMiB));
  EXPECT_EQ(p[0].chunk_offset, 3u);
}

TEST(ChunkMap, PiecesCoverRange) {
  uint64_t cs = 4096, off = 1234, len = 100000;
  uint64_t next = 0;
  for (const auto& p : map_range(off, len, cs, 1000)) {
    EXPECT_EQ(p.range_offset, next);
    EXPECT_EQ(p.index * cs + p.chunk_offset, off + p.range_offset);
    EXPECT_LE(p.chunk_offset + p.length, cs);
    EXPECT_LE(p.length, 1000u);
    next += p.length;
  }
  EXPECT_EQ(next, len);
}

TEST(ChunkMap, OverflowIsClipped) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  auto p = map_range(kMax - 5, 100, 16 * kMiB);
  uint64_t total = 0;
  for (const auto& x : p) total += x.length;
  EXPECT_EQ(total, 5u);
}

TEST(ChunkMap, ClipToSize) {
  EXPECT_EQ(clip_to_size(0, 100, 50), 50u);
  EXPECT_EQ(clip_to_size(50, 100, 50), 0u);
  EXPECT_EQ(clip_to_size(60, 100, 50), 0u);
  EXPECT_EQ(clip_to_size(10, 20, 50), 20u);
}

TEST(ChunkMap, ChunkBytesBelow) {
  uint64_t cs = 100;
  EXPECT_EQ(chunk_bytes_below(0, 250, cs), 100u);
  EXPECT_EQ(chunk_bytes_below(2, 250, cs), 50u);
  EXPECT_EQ(chunk_bytes_below(3, 250, cs), 0u);
  EXPECT_EQ(chunk_bytes_below(2, 200, cs), 0u);
  EXPECT_EQ(chunk_bytes_below(std::numeric_limits<uint64_t>::max() / 50, 1000, cs), 0u);
}

TEST(InlineDecision, StaysInlineUpToMax) {
  EXPECT_TRUE(stays_inline(0, 65536));
  EXPECT_TRUE(stays_inline(65536, 65536));
  EXPECT_FALSE(stays_inline(65537, 65536));
  EXPECT_FALSE(stays_inline(1, 0));
}

}  // namespace
}  // namespace zhsm::fuse
