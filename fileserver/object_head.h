// The head block at the start of every object file on a backend: 4096 bytes made of
// the magic "ZHSMOBJ1", a little-endian u32 length N, N bytes of proto::ObjectHead as a
// Cap'n Proto flat array, and zero padding; the object's data follows at offset 4096
// (doc/architecture.md, "Objects on a backend"). This file only converts between the
// C++ value and the bytes; reading and writing files is the object store's business.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/sha256.h"
#include "common/uuid.h"

namespace zhsm::fileserver {

inline constexpr size_t kHeadBlockSize = 4096;

// What an object file says about itself.
struct ObjectHead {
  Uuid uuid;            // the object's UUID (also its path)
  Uuid owner;           // FSID of the file the object belongs to
  uint64_t index = 0;   // chunk index within that file
  uint64_t version = 0;
  int64_t mtime_ns = 0;
  uint64_t size = 0;    // data bytes after the head block
  Digest sha256{};      // of those bytes

  bool operator==(const ObjectHead&) const = default;
};

using HeadBlock = std::array<uint8_t, kHeadBlockSize>;

// The head block for `head`. Pure; never fails (a head always fits).
HeadBlock encode_head_block(const ObjectHead& head);

// Parses a head block. Throws Error(io) saying what is wrong (bad magic, bad length,
// malformed message, missing field); the caller adds the file's path.
ObjectHead decode_head_block(const HeadBlock& block);

}  // namespace zhsm::fileserver
