// Framing: the only code that knows both Cap'n Proto and Boost.Asio.
//
// A frame is a 4-byte little-endian length N followed by N bytes: one Cap'n
// Proto message in flat-array form (segment table included) whose root is an
// proto::Envelope. N must be a positive multiple of 8 and at most kMaxFrameBytes;
// a peer that sends anything else is cut off. Messages are read with explicit
// reader limits (kReaderLimits), so a hostile message cannot make a reader walk
// more than it sent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include "common/asio.h"

namespace zhsm {

// Largest frame accepted: bulk data travels in pieces of at most kMaxDataPiece.
inline constexpr uint32_t kMaxFrameBytes = 8u << 20;
inline constexpr uint32_t kMaxDataPiece = 4u << 20;

inline capnp::ReaderOptions reader_limits() {
  capnp::ReaderOptions o;
  o.traversalLimitInWords = 2 * (kMaxFrameBytes / 8);
  o.nestingLimit = 32;
  return o;
}

// Reads one frame. Returns nullopt on a clean end of stream; throws
// zhsm::Error(invalid) for a bad length and boost::system::system_error for
// transport failures.
awaitable<std::optional<kj::Array<capnp::word>>> read_frame(tcp::socket& socket);

// An allocator whose value-less construction leaves bytes uninitialized: a frame is
// written whole right after it is sized, so zeroing it first would only cost time
// (a memset of every bulk piece sent).
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <typename U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// The bytes of one frame on the wire.
using FrameBytes = std::vector<uint8_t, UninitializedAllocator<uint8_t>>;

// Serializes a builder into a frame (length prefix, segment table, segments) ready to
// send, copying each segment once.
FrameBytes encode_frame(capnp::MessageBuilder& message);

// A frame to send without copying its message: the length prefix and segment table in
// a small buffer of its own, then the message's segments where the builder holds them,
// all handed to one gathered write (buffers()). Owns the builder, which must not change
// once the frame is made. Moving a frame keeps its buffers valid.
class OutFrame {
 public:
  OutFrame() = default;
  // Throws Error(invalid) when the message exceeds kMaxFrameBytes.
  explicit OutFrame(std::unique_ptr<capnp::MallocMessageBuilder> message);

  // The frame's bytes in order, for asio::async_write.
  const std::vector<asio::const_buffer>& buffers() const { return buffers_; }
  // Bytes on the wire, the length prefix included.
  size_t size() const { return size_; }

 private:
  std::unique_ptr<capnp::MallocMessageBuilder> message_;
  std::vector<uint8_t> header_;
  std::vector<asio::const_buffer> buffers_;
  size_t size_ = 0;
};

}  // namespace zhsm
