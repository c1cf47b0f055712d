// encode_frame: the length prefix followed by exactly Cap'n Proto's own flat-array form,
// for messages of one segment and of several (even and odd counts, for the padding).
#include "common/frame.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "capnp/zhsm.capnp.h"
#include "common/error.h"

namespace zhsm {
namespace {

// The gathered buffers of an OutFrame, one after the other.
std::vector<uint8_t> joined(const OutFrame& frame) {
  std::vector<uint8_t> out;
  for (const auto& b : frame.buffers()) {
    const auto* p = static_cast<const uint8_t*>(b.data());
    out.insert(out.end(), p, p + b.size());
  }
  return out;
}

void expect_flat_form(capnp::MessageBuilder& message) {
  FrameBytes frame = encode_frame(message);
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  auto bytes = flat.asBytes();
  ASSERT_EQ(frame.size(), 4 + bytes.size());
  uint32_t n = uint32_t(frame[0]) | uint32_t(frame[1]) << 8 | uint32_t(frame[2]) << 16 |
               uint32_t(frame[3]) << 24;
  EXPECT_EQ(n, bytes.size());
  EXPECT_EQ(std::memcmp(frame.data() + 4, bytes.begin(), bytes.size()), 0);
}

TEST(Frame, OneSegmentIsTheFlatArray) {
  capnp::MallocMessageBuilder message;
  auto env = message.initRoot<proto::Envelope>();
  env.setRequestId(42);
  env.initResponse().initError().setMessage("hello");
  ASSERT_EQ(message.getSegmentsForOutput().size(), 1u);
  expect_flat_form(message);
}

TEST(Frame, SeveralSegmentsAreTheFlatArray) {
  for (int pieces : {1, 2, 3, 6}) {
    // Small fixed-size segments: each piece of data lands in a segment of its own.
    capnp::MallocMessageBuilder message(16, capnp::AllocationStrategy::FIXED_SIZE);
    auto env = message.initRoot<proto::Envelope>();
    env.setRequestId(7);
    std::string text(1000 * pieces, 'x');
    env.initResponse().initError().setMessage(text);
    SCOPED_TRACE(pieces);
    EXPECT_GE(message.getSegmentsForOutput().size(), 2u);
    expect_flat_form(message);
  }
}

// An OutFrame sends the same bytes as encode_frame, without copying the segments: its
// buffers point into the builder it owns, and stay valid when the frame is moved.
TEST(Frame, GatheredFrameIsTheEncodedFrame) {
  for (int pieces : {0, 1, 2, 5}) {
    SCOPED_TRACE(pieces);
    auto message = std::make_unique<capnp::MallocMessageBuilder>(
        16, capnp::AllocationStrategy::FIXED_SIZE);
    auto env = message->initRoot<proto::Envelope>();
    env.setRequestId(11);
    env.initResponse().initError().setMessage(std::string(1000 * pieces + 3, 'q'));
    FrameBytes encoded = encode_frame(*message);
    const void* first_segment = message->getSegmentsForOutput()[0].begin();
    OutFrame frame(std::move(message));
    OutFrame moved = std::move(frame);
    EXPECT_EQ(moved.size(), encoded.size());
    EXPECT_EQ(joined(moved), std::vector<uint8_t>(encoded.begin(), encoded.end()));
    ASSERT_GE(moved.buffers().size(), 2u);
    EXPECT_EQ(moved.buffers()[1].data(), first_segment);
  }
}

TEST(Frame, GatheredFrameRefusesAnOversizedMessage) {
  auto message = std::make_unique<capnp::MallocMessageBuilder>();
  auto env = message->initRoot<proto::Envelope>();
  env.initResponse().initError().setMessage(std::string(kMaxFrameBytes, 'x'));
  try {
    OutFrame frame(std::move(message));
    FAIL() << "an oversized message was framed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid);
  }
}

TEST(Frame, ReadsBackAsTheSameMessage) {
  capnp::MallocMessageBuilder message(16, capnp::AllocationStrategy::FIXED_SIZE);
  auto env = message.initRoot<proto::Envelope>();
  env.setRequestId(99);
  env.initResponse().initError().setMessage(std::string(5000, 'z'));
  FrameBytes frame = encode_frame(message);
  auto words = kj::heapArray<capnp::word>((frame.size() - 4) / 8);
  std::memcpy(words.begin(), frame.data() + 4, frame.size() - 4);
  capnp::FlatArrayMessageReader reader(words, reader_limits());
  auto back = reader.getRoot<proto::Envelope>();
  EXPECT_EQ(back.getRequestId(), 99u);
  EXPECT_EQ(back.getResponse().getError().getMessage().size(), 5000u);
}

}  // namespace
}  // namespace zhsm
