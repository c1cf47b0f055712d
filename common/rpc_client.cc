// RpcClient: lazy connect, request-id multiplexing, per-call timeouts.
#include "common/rpc_client.h"

#include <atomic>
#include <deque>
#include <future>
#include <unordered_map>

#include <capnp/serialize.h>
#include <spdlog/spdlog.h>

#include "common/frame.h"
#include "common/rpc_server.h"
#include "common/clock.h"

namespace zhsm {

struct Reply::Frame {
  kj::Array<capnp::word> words;
  capnp::FlatArrayMessageReader reader;
  explicit Frame(kj::Array<capnp::word> w)
      : words(std::move(w)), reader(words.asPtr(), reader_limits()) {}
};

Reply Reply::failure(Errc code, std::string message) {
  Reply r;
  r.code_ = code;
  r.message_ = std::move(message);
  return r;
}

Reply Reply::from_frame(kj::Array<capnp::word> words) {
  Reply r;
  try {
    r.frame_ = std::make_shared<Frame>(std::move(words));
    auto env = r.frame_->reader.getRoot<proto::Envelope>();
    if (env.which() != proto::Envelope::RESPONSE) {
      r.code_ = Errc::invalid;
      r.message_ = "peer sent a request where an answer was expected";
      return r;
    }
    auto resp = env.getResponse();
    switch (resp.which()) {
      case proto::Response::ERROR: {
        auto err = resp.getError();
        r.code_ = static_cast<Errc>(err.getCode());
        if (r.code_ == Errc::ok) r.code_ = Errc::internal;
        r.message_ = err.getMessage();
        break;
      }
      case proto::Response::UNIMPLEMENTED:
        r.code_ = Errc::unimplemented;
        r.message_ = "peer does not implement this request";
        break;
      default:
        r.code_ = Errc::ok;
        r.message_.clear();
    }
  } catch (const kj::Exception& e) {
    r.code_ = Errc::invalid;
    r.message_ = std::string("malformed answer: ") + e.getDescription().cStr();
  }
  return r;
}

proto::Response::Reader Reply::response() const {
  if (!ok()) throw Error(code_, message_);
  return frame_->reader.getRoot<proto::Envelope>().getResponse();
}

const Reply& Reply::check() const {
  if (!ok()) throw Error(code_, message_);
  return *this;
}

struct RpcClient::Impl : std::enable_shared_from_this<RpcClient::Impl> {
  struct Pending {
    std::function<void(Reply)> done;
    std::unique_ptr<asio::steady_timer> timer;
  };

  asio::io_context& io;
  std::string address;
  asio::strand<asio::io_context::executor_type> strand;
  std::atomic<uint64_t> next_id{1};
  std::atomic<uint64_t> live_connection{0};  // connection_id(): 0 while not connected
  Observer observer;                         // set before the first call

  // All below: only on strand.
  enum class State { idle, connecting, connected } state = State::idle;
  uint64_t generation = 0;
  uint64_t connects = 0;  // successful connects so far
  // Shared with the read and write loops: drop_connection() closes and forgets it,
  // while a composed read or write still in progress finishes on its own reference.
  std::shared_ptr<tcp::socket> socket;
  std::unordered_map<uint64_t, Pending> pending;
  std::deque<OutFrame> queue;
  bool writing = false;

  Impl(asio::io_context& io_, std::string address_)
      : io(io_), address(std::move(address_)), strand(asio::make_strand(io_)) {}

  void fail_all(Errc code, const std::string& message) {
    auto victims = std::move(pending);
    pending.clear();
    queue.clear();
    for (auto& [id, p] : victims) {
      p.timer->cancel();
      p.done(Reply::failure(code, message));
    }
  }

  void drop_connection(const std::string& why) {
    if (socket) {
      boost::system::error_code ec;
      socket->close(ec);
    }
    socket.reset();
    state = State::idle;
    ++generation;
    live_connection.store(0);
    writing = false;
    fail_all(Errc::disconnected, "connection to " + address + " lost: " + why);
  }

  void submit(uint64_t id, OutFrame frame, std::chrono::milliseconds timeout,
              std::function<void(Reply)> done) {
    auto timer = std::make_unique<asio::steady_timer>(strand, timeout);
    timer->async_wait([self = shared_from_this(), id](boost::system::error_code ec) {
      if (ec) return;
      auto it = self->pending.find(id);
      if (it == self->pending.end()) return;
      auto p = std::move(it->second);
      self->pending.erase(it);
      p.done(Reply::failure(Errc::timeout, "no answer from " + self->address + " in time"));
    });
    pending.emplace(id, Pending{std::move(done), std::move(timer)});
    queue.push_back(std::move(frame));
    if (state == State::idle) {
      state = State::connecting;
      asio::co_spawn(strand, [self = shared_from_this()] { return self->connect(); },
                     asio::detached);
    } else if (state == State::connected) {
      kick_writer();
    }
  }

  awaitable<void> connect() {
    uint64_t gen = generation;
    try {
      auto ep = parse_endpoint(address);
      auto s = std::make_shared<tcp::socket>(strand);
      co_await s->async_connect(ep, asio::use_awaitable);
      s->set_option(tcp::no_delay(true));
      if (gen != generation) co_return;
      socket = std::move(s);
      state = State::connected;
      live_connection.store(++connects);
      asio::co_spawn(strand, [self = shared_from_this(), gen] { return self->read_loop(gen); },
                     asio::detached);
      kick_writer();
    } catch (const std::exception& e) {
      if (gen != generation) co_return;
      state = State::idle;
      ++generation;
      fail_all(Errc::disconnected, "cannot connect to " + address + ": " + e.what());
    }
  }

  void kick_writer() {
    if (writing || queue.empty() || state != State::connected) return;
    writing = true;
    asio::co_spawn(strand, [self = shared_from_this(), gen = generation] {
      return self->write_loop(gen);
    }, asio::detached);
  }

  awaitable<void> write_loop(uint64_t gen) {
    auto sock = socket;
    while (gen == generation && !queue.empty()) {
      auto frame = std::move(queue.front());
      queue.pop_front();
      boost::system::error_code ec;
      co_await asio::async_write(*sock, frame.buffers(),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (gen != generation) co_return;
      if (ec) {
        drop_connection(ec.message());
        co_return;
      }
    }
    if (gen == generation) writing = false;
  }

  awaitable<void> read_loop(uint64_t gen) {
    std::string why = "closed by peer";
    auto sock = socket;
    try {
      for (;;) {
        auto frame = co_await read_frame(*sock);
        if (gen != generation) co_return;
        if (!frame) break;
        uint64_t id = 0;
        try {
          capnp::FlatArrayMessageReader reader(frame->asPtr(), reader_limits());
          id = reader.getRoot<proto::Envelope>().getRequestId();
        } catch (const kj::Exception& e) {
          why = std::string("malformed frame: ") + e.getDescription().cStr();
          break;
        }
        auto it = pending.find(id);
        if (it == pending.end()) {
          if (id == 0) {
            Reply r = Reply::from_frame(std::move(*frame));
            why = "peer reported: " + r.message();
            break;
          }
          continue;  // answer to a call that already timed out
        }
        auto p = std::move(it->second);
        pending.erase(it);
        p.timer->cancel();
        p.done(Reply::from_frame(std::move(*frame)));
      }
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (gen == generation) drop_connection(why);
  }
};

RpcClient::RpcClient(asio::io_context& io, std::string address)
    : impl_(std::make_shared<Impl>(io, std::move(address))) {}

RpcClient::~RpcClient() { close(); }

const std::string& RpcClient::address() const { return impl_->address; }

void RpcClient::start_call(const RequestFiller& fill, std::chrono::milliseconds timeout,
                           std::function<void(Reply)> done) {
  uint64_t id = impl_->next_id.fetch_add(1);
  OutFrame frame;
  try {
    auto mb = std::make_unique<capnp::MallocMessageBuilder>();
    auto env = mb->initRoot<proto::Envelope>();
    env.setRequestId(id);
    env.setDeadlineMs(now_ms() + static_cast<uint64_t>(timeout.count()));
    fill(env.initRequest());
    if (impl_->observer) {
      const auto kind = env.getRequest().which();
      const auto start = std::chrono::steady_clock::now();
      done = [observer = &impl_->observer, kind, start, done = std::move(done)](Reply r) {
        (*observer)(kind, std::chrono::steady_clock::now() - start, r.code());
        done(std::move(r));
      };
    }
    frame = OutFrame(std::move(mb));
  } catch (const Error& e) {
    asio::post(impl_->strand, [done = std::move(done), e] { done(Reply::failure(e.code(), e.what())); });
    return;
  } catch (const kj::Exception& e) {
    std::string msg = std::string("cannot encode request: ") + e.getDescription().cStr();
    asio::post(impl_->strand, [done = std::move(done), msg] { done(Reply::failure(Errc::invalid, msg)); });
    return;
  }
  asio::post(impl_->strand, [impl = impl_, id, frame = std::move(frame), timeout,
                             done = std::move(done)]() mutable {
    impl->submit(id, std::move(frame), timeout, std::move(done));
  });
}

Reply RpcClient::call(const RequestFiller& fill, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Reply>>();
  auto future = promise->get_future();
  start_call(fill, timeout, [promise](Reply r) { promise->set_value(std::move(r)); });
  return future.get();
}

awaitable<Reply> RpcClient::async_call(const RequestFiller& fill, std::chrono::milliseconds timeout) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Reply)>(
      [this, &fill, timeout](auto handler) {
        using H = decltype(handler);
        auto h = std::make_shared<H>(std::move(handler));
        start_call(fill, timeout, [h](Reply r) {
          auto ex = asio::get_associated_executor(*h);
          asio::dispatch(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        });
      },
      asio::use_awaitable);
}

uint64_t RpcClient::connection_id() const { return impl_->live_connection.load(); }

void RpcClient::set_observer(Observer observer) { impl_->observer = std::move(observer); }

void RpcClient::close() {
  asio::post(impl_->strand, [impl = impl_] {
    if (impl->state != Impl::State::idle || impl->socket) impl->drop_connection("closed");
  });
}

}  // namespace zhsm
