// crc32_of gives zlib's crc32() for every length and alignment, so a client and a file
// server agree whichever library computed the other side.
#include "common/crc32.h"

#include <zlib.h>

#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace zhsm {
namespace {

TEST(Crc32, IsZlibsCrc32) {
  std::mt19937 rng(7);
  std::vector<unsigned char> data(3 << 20);
  for (auto& b : data) b = static_cast<unsigned char>(rng());
  for (size_t start : {0u, 1u, 3u, 8u, 13u})
    for (size_t n : {0u, 1u, 7u, 15u, 16u, 63u, 64u, 255u, 4096u, 65537u, 1u << 20, 3u << 19}) {
      SCOPED_TRACE(testing::Message() << "start " << start << " length " << n);
      EXPECT_EQ(crc32_of(data.data() + start, n),
                ::crc32(0, data.data() + start, static_cast<uInt>(n)));
    }
}

TEST(Crc32, KnownValue) {
  EXPECT_EQ(crc32_of("123456789", 9), 0xCBF43926u);  // the CRC-32 check value
  EXPECT_EQ(crc32_of("", 0), 0u);
}

}  // namespace
}  // namespace zhsm
