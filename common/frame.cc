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

std::vector<uint8_t> encode_frame(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  auto bytes = flat.asBytes();
  if (bytes.size() > kMaxFrameBytes)
    throw Error(Errc::invalid, "message of " + std::to_string(bytes.size()) +
                                   " bytes exceeds the frame limit");
  std::vector<uint8_t> out(4 + bytes.size());
  uint32_t n = static_cast<uint32_t>(bytes.size());
  out[0] = n & 0xff;
  out[1] = (n >> 8) & 0xff;
  out[2] = (n >> 16) & 0xff;
  out[3] = (n >> 24) & 0xff;
  std::memcpy(out.data() + 4, bytes.begin(), bytes.size());
  return out;
}

}  // namespace zhsm
