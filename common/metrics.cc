// Metrics registry and its tiny HTTP endpoint.
#include "common/metrics.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/rpc_server.h"

namespace zhsm {

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  f.type = type;
  f.help = help;
}

void Metrics::add(const std::string& name, double value, const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (f.type.empty()) f.type = "counter";
  f.values[labels] += value;
}

void Metrics::set(const std::string& name, double value, const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (f.type.empty()) f.type = "gauge";
  f.values[labels] = value;
}

void Metrics::on_scrape(std::function<void(Metrics&)> fn) {
  std::lock_guard lock(mu_);
  scrapers_.push_back(std::move(fn));
}

std::string Metrics::render() {
  std::vector<std::function<void(Metrics&)>> scrapers;
  {
    std::lock_guard lock(mu_);
    scrapers = scrapers_;
  }
  for (auto& s : scrapers) s(*this);
  std::lock_guard lock(mu_);
  std::string out;
  for (auto& [name, f] : families_) {
    if (!f.help.empty()) out += fmt::format("# HELP {} {}\n", name, f.help);
    out += fmt::format("# TYPE {} {}\n", name, f.type.empty() ? "untyped" : f.type);
    for (auto& [labels, v] : f.values) {
      if (labels.empty())
        out += fmt::format("{} {}\n", name, v);
      else
        out += fmt::format("{}{{{}}} {}\n", name, labels, v);
    }
  }
  return out;
}

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
  asio::io_context& io;
  std::string bind;
  Metrics& metrics;
  tcp::acceptor acceptor;

  Impl(asio::io_context& io_, std::string bind_, Metrics& m)
      : io(io_), bind(std::move(bind_)), metrics(m), acceptor(io_) {}

  awaitable<void> serve(tcp::socket socket) {
    try {
      asio::streambuf buf(64 * 1024);
      co_await asio::async_read_until(socket, buf, "\r\n\r\n", asio::use_awaitable);
      std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      std::string body, status = "200 OK";
      if (head.rfind("GET /metrics", 0) == 0) {
        body = metrics.render();
      } else {
        status = "404 Not Found";
        body = "only /metrics is served here\n";
      }
      std::string resp = fmt::format(
          "HTTP/1.0 {}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n"
          "Connection: close\r\n\r\n{}",
          status, body.size(), body);
      co_await asio::async_write(socket, asio::buffer(resp), asio::use_awaitable);
    } catch (const std::exception&) {
      // A scraper that hangs up early is not worth a log line.
    }
    boost::system::error_code ec;
    socket.close(ec);
  }

  awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(io);
      co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue;
      asio::co_spawn(io, [self = shared_from_this(), s = std::move(socket)]() mutable {
        return self->serve(std::move(s));
      }, asio::detached);
    }
  }
};

MetricsServer::MetricsServer(asio::io_context& io, std::string bind, Metrics& metrics)
    : impl_(std::make_shared<Impl>(io, std::move(bind), metrics)) {}

MetricsServer::~MetricsServer() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

void MetricsServer::start() {
  auto ep = parse_endpoint(impl_->bind);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->io, [impl = impl_] { return impl->accept_loop(); }, asio::detached);
}

uint16_t MetricsServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

}  // namespace zhsm
