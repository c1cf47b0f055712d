// Pure arithmetic of the data layout (doc/architecture.md, "Namespace and data
// model"): how a byte range of a file maps onto its chunks, and when a file's
// bytes stay inline. No I/O; unit-tested in chunk_map_test.cc.
#pragma once

#include <cstdint>
#include <vector>

namespace zhsm::fuse {

// One piece of a file range that lies inside a single chunk.
struct ChunkPiece {
  uint64_t index = 0;         // chunk index: the chunk covers [index*chunk_size, (index+1)*chunk_size)
  uint64_t chunk_offset = 0;  // offset of the piece inside the chunk
  uint64_t length = 0;        // bytes in the piece (> 0)
  uint64_t range_offset = 0;  // offset of the piece inside the caller's range

  bool operator==(const ChunkPiece&) const = default;
};

// Splits [offset, offset+length) into pieces that each lie in one chunk and are
// at most `max_piece` bytes long (0: no limit besides the chunk). Empty for
// length 0. Requires chunk_size > 0; a range whose end overflows 64 bits is
// clipped at UINT64_MAX.
std::vector<ChunkPiece> map_range(uint64_t offset, uint64_t length, uint64_t chunk_size,
                                  uint64_t max_piece = 0);

// How many bytes of [offset, offset+length) lie before `size` (a read never goes
// past the end of the file).
uint64_t clip_to_size(uint64_t offset, uint64_t length, uint64_t size);

// Whether a file whose data is inline may stay inline when its size becomes
// `new_size` (the controller's rule: inline means size <= inline_max).
inline bool stays_inline(uint64_t new_size, uint64_t inline_max) { return new_size <= inline_max; }

// Index of the chunk holding byte `offset`.
inline uint64_t chunk_index(uint64_t offset, uint64_t chunk_size) { return offset / chunk_size; }

// Valid bytes chunk `index` keeps when the file is cut to `size` (0 when the
// chunk lies wholly past the cut, chunk_size when wholly before it).
uint64_t chunk_bytes_below(uint64_t index, uint64_t size, uint64_t chunk_size);

}  // namespace zhsm::fuse
