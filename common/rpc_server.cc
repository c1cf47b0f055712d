// Accept loop and per-connection request dispatch for RpcServer.
#include "common/rpc_server.h"

#include <deque>
#include <future>
#include <set>

#include <capnp/serialize.h>
#include <spdlog/spdlog.h>

#include "common/frame.h"

namespace zhsm {
namespace {

using Strand = asio::strand<asio::io_context::executor_type>;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Strand strand, std::shared_ptr<RpcHandler> handler,
             std::string peer, std::string name)
      : socket_(std::move(socket)),
        strand_(std::move(strand)),
        handler_(std::move(handler)),
        peer_(std::move(peer)),
        name_(std::move(name)) {}

  void start() {
    asio::co_spawn(strand_, [self = shared_from_this()] { return self->read_loop(); },
                   asio::detached);
  }

  void close() {
    asio::post(strand_, [self = shared_from_this()] {
      boost::system::error_code ec;
      self->socket_.close(ec);
    });
  }

 private:
  awaitable<void> read_loop() {
    try {
      for (;;) {
        auto frame = co_await read_frame(socket_);
        if (!frame) break;
        asio::co_spawn(strand_,
                       [self = shared_from_this(), words = std::move(*frame)]() mutable {
                         return self->handle_one(std::move(words));
                       },
                       asio::detached);
      }
    } catch (const Error& e) {
      spdlog::warn("event=connection_dropped role={} peer={} reason=\"{}\"", name_, peer_,
                   e.what());
      send_error(0, e.code(), e.what());
    } catch (const std::exception& e) {
      spdlog::info("event=connection_error role={} peer={} reason=\"{}\"", name_, peer_, e.what());
    }
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_receive, ec);
    if (!writing_) socket_.close(ec);
    handler_->on_close();
  }

  awaitable<void> handle_one(kj::Array<capnp::word> words) {
    uint64_t request_id = 0;
    auto out = std::make_unique<capnp::MallocMessageBuilder>();
    auto env_out = out->initRoot<proto::Envelope>();
    try {
      capnp::FlatArrayMessageReader reader(words, reader_limits());
      auto env = reader.getRoot<proto::Envelope>();
      request_id = env.getRequestId();
      env_out.setRequestId(request_id);
      if (env.which() != proto::Envelope::REQUEST)
        throw Error(Errc::invalid, "envelope carries no request");
      auto resp = env_out.initResponse();
      try {
        co_await handler_->handle(env.getRequest(), resp);
      } catch (const Error& e) {
        if (e.code() == Errc::unimplemented) {
          resp.setUnimplemented();
        } else {
          auto err = resp.initError();
          err.setCode(static_cast<proto::ErrorCode>(e.code()));
          err.setMessage(e.what());
        }
      }
    } catch (const Error& e) {
      env_out.setRequestId(request_id);
      auto err = env_out.initResponse().initError();
      err.setCode(static_cast<proto::ErrorCode>(e.code()));
      err.setMessage(e.what());
    } catch (const kj::Exception& e) {
      // Malformed message: the framing held, so answer and keep serving.
      spdlog::warn("event=malformed_request role={} peer={} request_id={} reason=\"{}\"", name_,
                   peer_, request_id, e.getDescription().cStr());
      env_out.setRequestId(request_id);
      auto err = env_out.initResponse().initError();
      err.setCode(proto::ErrorCode::INVALID);
      err.setMessage(std::string("malformed message: ") + e.getDescription().cStr());
    } catch (const std::exception& e) {
      spdlog::error("event=handler_failed role={} peer={} request_id={} reason=\"{}\"", name_,
                    peer_, request_id, e.what());
      env_out.setRequestId(request_id);
      auto err = env_out.initResponse().initError();
      err.setCode(proto::ErrorCode::INTERNAL);
      err.setMessage(std::string("internal error: ") + e.what());
    }
    enqueue(OutFrame(std::move(out)));
  }

  void send_error(uint64_t request_id, Errc code, const std::string& message) {
    auto out = std::make_unique<capnp::MallocMessageBuilder>();
    auto env = out->initRoot<proto::Envelope>();
    env.setRequestId(request_id);
    auto err = env.initResponse().initError();
    err.setCode(static_cast<proto::ErrorCode>(code));
    err.setMessage(message);
    enqueue(OutFrame(std::move(out)));
  }

  // Requires: running on strand_.
  void enqueue(OutFrame frame) {
    queue_.push_back(std::move(frame));
    if (writing_) return;
    writing_ = true;
    asio::co_spawn(strand_, [self = shared_from_this()] { return self->write_loop(); },
                   asio::detached);
  }

  awaitable<void> write_loop() {
    while (!queue_.empty()) {
      auto frame = std::move(queue_.front());
      queue_.pop_front();
      boost::system::error_code ec;
      co_await asio::async_write(socket_, frame.buffers(),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        queue_.clear();
        break;
      }
    }
    writing_ = false;
    if (closed_) {
      boost::system::error_code ec;
      socket_.close(ec);
    }
  }

  tcp::socket socket_;
  Strand strand_;
  std::shared_ptr<RpcHandler> handler_;
  std::string peer_;
  std::string name_;
  std::deque<OutFrame> queue_;
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace

struct RpcServer::Impl : std::enable_shared_from_this<RpcServer::Impl> {
  asio::io_context& io;
  std::string bind;
  HandlerFactory factory;
  std::string name;
  tcp::acceptor acceptor;
  std::mutex mu;  // guards connections
  std::vector<std::weak_ptr<Connection>> connections;

  Impl(asio::io_context& io_, std::string bind_, HandlerFactory factory_, std::string name_)
      : io(io_), bind(std::move(bind_)), factory(std::move(factory_)), name(std::move(name_)),
        acceptor(io_) {}

  awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(io);
      co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      // Closed by stop(): the pending accept is aborted, or a new one finds the
      // descriptor gone (EBADF). Either way this listener is finished.
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        spdlog::warn("event=accept_failed role={} reason=\"{}\"", name, ec.message());
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      std::string peer;
      auto remote = socket.remote_endpoint(ec);
      if (!ec) peer = remote.address().to_string() + ":" + std::to_string(remote.port());
      auto handler = factory(peer);
      auto conn = std::make_shared<Connection>(std::move(socket), asio::make_strand(io),
                                               std::move(handler), peer, name);
      {
        std::lock_guard lock(mu);
        std::erase_if(connections, [](auto& w) { return w.expired(); });
        connections.push_back(conn);
      }
      conn->start();
    }
  }
};

RpcServer::RpcServer(asio::io_context& io, std::string bind, HandlerFactory factory,
                     std::string name)
    : impl_(std::make_shared<Impl>(io, std::move(bind), std::move(factory), std::move(name))) {}

RpcServer::~RpcServer() { stop(); }

void RpcServer::start() {
  auto ep = parse_endpoint(impl_->bind);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->io, [impl = impl_] { return impl->accept_loop(); }, asio::detached);
}

void RpcServer::stop() {
  // The acceptor is not thread-safe: it is closed on the io_context, where the accept
  // loop uses it. A caller on another thread waits for that, so the port is free
  // when stop() returns; if nothing runs the io_context, no one else touches the
  // acceptor and it is closed here.
  auto close_all = [impl = impl_] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    std::lock_guard lock(impl->mu);
    for (auto& w : impl->connections)
      if (auto c = w.lock()) c->close();
    impl->connections.clear();
  };
  auto& io = impl_->io;
  if (io.get_executor().running_in_this_thread() || io.stopped()) {
    close_all();
    return;
  }
  auto closed = std::make_shared<std::promise<void>>();
  auto done = closed->get_future();
  asio::post(io, [closed, close_all] {
    close_all();
    closed->set_value();
  });
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    spdlog::warn("event=stop_not_run role={} reason=\"io_context did not run the close\"",
                 impl_->name);
    close_all();
  }
}

uint16_t RpcServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

tcp::endpoint parse_endpoint(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size())
    throw Error(Errc::invalid, "address '" + address + "' is not host:port");
  std::string host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  if (host == "*") host = "0.0.0.0";
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw Error(Errc::invalid, "address '" + address + "' has a bad port");
  }
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) {
    // A host name: resolve it once, synchronously (only at start-up and connect).
    asio::io_context tmp;
    tcp::resolver resolver(tmp);
    auto results = resolver.resolve(host, port_text, ec);
    if (ec || results.empty())
      throw Error(Errc::invalid, "cannot resolve host of address '" + address + "'");
    return *results.begin();
  }
  return tcp::endpoint(ip, static_cast<uint16_t>(port));
}

}  // namespace zhsm
