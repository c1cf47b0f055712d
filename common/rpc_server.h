// The serving side of a zhsm connection: accepts TCP connections, reads
// Envelope frames, runs one handler coroutine per request (so one connection
// carries many concurrent calls) and writes the answers back in completion order.
//
// Threading: everything of one connection runs on that connection's strand of the
// io_context; a handler that needs blocking work (PostgreSQL, disk) moves it to a
// thread pool with run_blocking() (common/run_blocking.h) and comes back to the strand.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "capnp/zhsm.capnp.h"
#include "common/asio.h"
#include "common/error.h"

namespace zhsm {

// Per-connection request handler. One instance per accepted connection, so it may
// keep connection state (client id, open write sessions). handle() is called on
// the connection's strand, possibly several times concurrently (interleaved at
// co_await points, never in parallel).
class RpcHandler {
 public:
  virtual ~RpcHandler() = default;

  // Fills `resp` with the answer to `req`. Throwing zhsm::Error answers with that
  // error; any other exception answers `internal` and is logged once. A request
  // kind the handler does not serve must throw Error(Errc::unimplemented, ...).
  virtual awaitable<void> handle(proto::Request::Reader req, proto::Response::Builder resp) = 0;

  // Called once, on the strand, when the peer is gone. handle() calls still in
  // flight may resume afterwards and must then fail cleanly. Release
  // per-connection resources (write sessions, ...) here.
  virtual void on_close() {}
};

// Builds the handler of a new connection; `peer` is "address:port" for logs.
using HandlerFactory = std::function<std::shared_ptr<RpcHandler>(const std::string& peer)>;

class RpcServer {
 public:
  // Listens on `bind` ("host:port", port 0 = any free port) once start() is called.
  // `name` labels log lines ("controller", "fileserver").
  RpcServer(asio::io_context& io, std::string bind, HandlerFactory factory, std::string name);
  ~RpcServer();

  // Binds and starts accepting. Throws boost::system::system_error if the address
  // cannot be bound.
  void start();
  // Stops accepting and closes every connection.
  void stop();
  // The bound port (after start()).
  uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Parses "host:port" / "[v6]:port" into an endpoint (numeric addresses and
// "localhost"). Throws Error(invalid) with the text in the message.
tcp::endpoint parse_endpoint(const std::string& address);

}  // namespace zhsm
