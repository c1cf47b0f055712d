// WritePipeline: writeObject calls in flight with a byte window (see the header).
#include "client-fuse/write_pipeline.h"

#include <chrono>

#include "capnp/zhsm.capnp.h"
#include "common/crc32.h"

namespace zhsm::fuse {

namespace {
// A piece waits this long for the file server (it may be busy with fsyncs).
constexpr std::chrono::seconds kPieceTimeout{120};
}  // namespace

WritePipeline::WritePipeline(uint64_t window)
    : window_(window), state_(std::make_shared<State>()) {}

void WritePipeline::throw_failure_locked() const {
  if (state_->code) throw Error(*state_->code, state_->message);
}

void WritePipeline::send(RpcClient& link, uint64_t session_id, uint64_t offset, const char* data,
                         uint64_t length) {
  {
    std::unique_lock lock(state_->mu);
    // One piece larger than the window still goes, alone.
    state_->cv.wait(lock, [&] {
      return state_->code || state_->bytes == 0 || state_->bytes + length <= window_;
    });
    throw_failure_locked();
    state_->bytes += length;
  }
  uint32_t crc = crc32_of(data, length);
  auto fill = [&](proto::Request::Builder req) {
    auto w = req.initWriteObject();
    w.setSessionId(session_id);
    w.setOffset(offset);
    w.setData(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(data), length));
    w.setCrc32(crc);
  };
  link.start_call(fill, kPieceTimeout, [state = state_, length, offset](Reply r) {
    std::lock_guard lock(state->mu);
    state->bytes -= length;
    if (!r.ok() && !state->code) {
      state->code = r.code();
      state->message = "write of " + std::to_string(length) + " bytes at chunk offset " +
                       std::to_string(offset) + ": " + r.message();
    }
    state->cv.notify_all();
  });
}

void WritePipeline::drain() {
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->bytes == 0; });
  throw_failure_locked();
}

uint64_t WritePipeline::in_flight() const {
  std::lock_guard lock(state_->mu);
  return state_->bytes;
}

}  // namespace zhsm::fuse
