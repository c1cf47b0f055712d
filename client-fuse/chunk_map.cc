// Range-to-chunk arithmetic, written to be exact for offsets near 2^64.
#include "client-fuse/chunk_map.h"

#include <algorithm>
#include <limits>

namespace zhsm::fuse {

std::vector<ChunkPiece> map_range(uint64_t offset, uint64_t length, uint64_t chunk_size,
                                  uint64_t max_piece) {
  std::vector<ChunkPiece> pieces;
  if (chunk_size == 0) return pieces;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (length > kMax - offset) length = kMax - offset;
  uint64_t done = 0;
  while (done < length) {
    uint64_t pos = offset + done;
    uint64_t index = pos / chunk_size;
    uint64_t in_chunk = pos % chunk_size;
    uint64_t n = std::min(chunk_size - in_chunk, length - done);
    if (max_piece != 0) n = std::min(n, max_piece);
    pieces.push_back(ChunkPiece{index, in_chunk, n, done});
    done += n;
  }
  return pieces;
}

uint64_t clip_to_size(uint64_t offset, uint64_t length, uint64_t size) {
  if (offset >= size) return 0;
  return std::min(length, size - offset);
}

uint64_t chunk_bytes_below(uint64_t index, uint64_t size, uint64_t chunk_size) {
  uint64_t start = index * chunk_size;
  if (index != 0 && start / index != chunk_size) return 0;  // overflow: far past any size
  if (start >= size) return 0;
  return std::min(chunk_size, size - start);
}

}  // namespace zhsm::fuse
