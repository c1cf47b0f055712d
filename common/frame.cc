// Length-prefixed Cap'n Proto frames over an Asio TCP socket.
#include "common/frame.h"

#include <cstring>

#include "common/error.h"

namespace zhsm {

awaitable<std::optional<kj::Array<capnp::word>>> read_frame(tcp::socket& socket) {
  uint8_t prefix[4];
  boost::system::error_code ec;
  co_await asio::async_read(socket, asio::buffer(prefix, 4),
                            asio::redirect_error(asio::use_awaitable, ec));
  if (ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted)
    co_return std::nullopt;
  if (ec) throw boost::system::system_error(ec);
  uint32_t n = uint32_t(prefix[0]) | uint32_t(prefix[1]) << 8 | uint32_t(prefix[2]) << 16 |
               uint32_t(prefix[3]) << 24;
  if (n == 0 || n % 8 != 0 || n > kMaxFrameBytes)
    throw Error(Errc::invalid, "bad frame length " + std::to_string(n));
  auto words = kj::heapArray<capnp::word>(n / 8);
  co_await asio::async_read(socket, asio::buffer(words.begin(), n),
                            asio::redirect_error(asio::use_awaitable, ec));
  if (ec == asio::error::eof || ec == asio::error::connection_reset) co_return std::nullopt;
  if (ec) throw boost::system::system_error(ec);
  co_return std::move(words);
}

namespace {

// Cap'n Proto's flat-array framing of `segments`, behind our 4-byte length: the total
// length, the segment count less one and each segment's size in words (32-bit
// little-endian, padded to a whole word). Returns the length of the data after the prefix.
size_t frame_header(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments,
                    std::vector<uint8_t>& out) {
  const size_t table_entries = (segments.size() + 2) & ~size_t{1};
  size_t words = table_entries / 2;
  for (auto segment : segments) words += segment.size();
  const size_t bytes = words * sizeof(capnp::word);
  if (bytes > kMaxFrameBytes)
    throw Error(Errc::invalid, "message of " + std::to_string(bytes) +
                                   " bytes exceeds the frame limit");
  out.clear();
  out.reserve(4 + table_entries * 4);
  auto put32 = [&out](uint32_t v) {
    for (int shift = 0; shift < 32; shift += 8) out.push_back((v >> shift) & 0xff);
  };
  put32(static_cast<uint32_t>(bytes));
  put32(static_cast<uint32_t>(segments.size() - 1));
  for (auto segment : segments) put32(static_cast<uint32_t>(segment.size()));
  if (segments.size() % 2 == 0) put32(0);
  return bytes;
}

}  // namespace

FrameBytes encode_frame(capnp::MessageBuilder& message) {
  auto segments = message.getSegmentsForOutput();
  std::vector<uint8_t> header;
  const size_t bytes = frame_header(segments, header);
  FrameBytes out(4 + bytes);
  uint8_t* p = out.data();
  std::memcpy(p, header.data(), header.size());
  p += header.size();
  for (auto segment : segments) {
    std::memcpy(p, segment.begin(), segment.size() * sizeof(capnp::word));
    p += segment.size() * sizeof(capnp::word);
  }
  return out;
}

OutFrame::OutFrame(std::unique_ptr<capnp::MallocMessageBuilder> message)
    : message_(std::move(message)) {
  auto segments = message_->getSegmentsForOutput();
  size_ = 4 + frame_header(segments, header_);
  buffers_.reserve(1 + segments.size());
  buffers_.emplace_back(header_.data(), header_.size());
  for (auto segment : segments)
    buffers_.emplace_back(segment.begin(), segment.size() * sizeof(capnp::word));
}

}  // namespace zhsm
