// WritePipeline: the writeObject calls of one write session that are on their
// way to the file server. A write returns to the application once its piece is
// encoded and queued, so the client, the network and the file server work at
// the same time instead of taking turns (doc/architecture.md, "Data path").
// The file server applies the pieces of one session in the order they were sent
// (one ordered queue per session), so overlapping writes keep their order.
//
// A failed piece fails the pipeline: the next send, and every wait, throw that
// failure. Committing, truncating or reading the session waits for the pipeline
// first, so flush, fsync and close report every failure of the writes they
// acknowledge.
//
// Thread-safety: all methods may be called from any thread; the completions run
// on the RPC client's I/O thread and never block.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/rpc_client.h"

namespace zhsm::fuse {

class WritePipeline {
 public:
  // At most `window` bytes in flight; a send beyond it waits for room.
  explicit WritePipeline(uint64_t window);

  // Sends bytes [data, data+length) to `offset` of session `session_id` over
  // `link`. Copies the bytes before it returns. Throws the pipeline's failure,
  // if any.
  void send(RpcClient& link, uint64_t session_id, uint64_t offset, const char* data,
            uint64_t length);
  // Waits until nothing is in flight; throws the pipeline's failure, if any.
  void drain();
  // Bytes in flight now.
  uint64_t in_flight() const;

 private:
  struct State {
    mutable std::mutex mu;
    std::condition_variable cv;
    uint64_t bytes = 0;
    std::optional<Errc> code;  // first failure
    std::string message;
  };
  void throw_failure_locked() const;

  uint64_t window_;
  std::shared_ptr<State> state_;  // shared with the completions of calls in flight
};

}  // namespace zhsm::fuse
