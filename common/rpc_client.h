// The calling side of a zhsm connection: one TCP connection to one peer, many
// concurrent calls multiplexed over it by request id. Connects lazily and again
// after a failure; a call in flight when the connection breaks fails with
// `disconnected` (the caller decides whether to retry).
//
// Thread-safety: every public method may be called from any thread. The
// io_context given at construction must be run by at least one thread, and
// call() must not be called from a thread running that io_context.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "capnp/zhsm.capnp.h"
#include "common/asio.h"
#include "common/error.h"

namespace zhsm {

// The answer to one call: either a transport failure, an error the peer
// answered, or a response. Cheap to copy (shared).
class Reply {
 public:
  Reply() = default;
  static Reply failure(Errc code, std::string message);
  static Reply from_frame(kj::Array<capnp::word> words);

  // ok when the peer answered with a non-error response. `unimplemented` answers
  // map to Errc::unimplemented.
  Errc code() const { return code_; }
  bool ok() const { return code_ == Errc::ok; }
  const std::string& message() const { return message_; }
  // The response; only when ok().
  proto::Response::Reader response() const;
  // Throws zhsm::Error(code(), message()) unless ok().
  const Reply& check() const;

 private:
  struct Frame;
  Errc code_ = Errc::disconnected;
  std::string message_ = "no answer";
  std::shared_ptr<Frame> frame_;
};

using RequestFiller = std::function<void(proto::Request::Builder)>;

class RpcClient {
 public:
  // `address` is "host:port". Nothing connects until the first call.
  RpcClient(asio::io_context& io, std::string address);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  const std::string& address() const;

  // Starts a call; `done` runs exactly once on an io_context thread with the reply
  // (or a failure: disconnected, timeout, invalid when the request cannot be encoded).
  void start_call(const RequestFiller& fill, std::chrono::milliseconds timeout,
                  std::function<void(Reply)> done);
  // Blocking call from a non-io thread.
  Reply call(const RequestFiller& fill,
             std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Call from a coroutine. Name the filler before the co_await (see
  // common/run_blocking.h on GCC 12 and temporaries in co_await expressions).
  awaitable<Reply> async_call(const RequestFiller& fill,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // An id of the connection in use, 0 while there is none; every new connection gets a
  // new id. Tells a caller that the peer may have lost what it kept per connection (the
  // controller's hello) even when no call failed. Thread-safe.
  uint64_t connection_id() const;

  // Closes the connection; calls in flight fail with `disconnected`.
  void close();

  // Told of every finished call: its kind, how long it took from start_call to the reply,
  // and the reply's code (ok, an answered error, or a transport failure). Runs on an
  // io_context thread before `done`; must not block. Set before the first call.
  using Observer =
      std::function<void(proto::Request::Which, std::chrono::steady_clock::duration, Errc)>;
  void set_observer(Observer observer);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace zhsm
