// zhsm-fileserver: reads its settings, opens the backends, serves client data
// requests on one network thread with disk work on an I/O pool, registers and
// heartbeats with the controller, runs the copy tasks it sends, serves metrics, and
// stops cleanly on SIGINT/SIGTERM.
#include <sys/resource.h>
#include <unistd.h>

#include <iostream>

#include <spdlog/spdlog.h>

#include "common/asio.h"
#include "common/bulk_malloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/port_file.h"
#include "common/rpc_server.h"
#include "common/token.h"
#include "fileserver/config.h"
#include "fileserver/controller_link.h"
#include "fileserver/copy_tasks.h"
#include "fileserver/data_service.h"
#include "fileserver/fileserver_metrics.h"
#include "fileserver/object_store.h"
#include "fileserver/server_identity.h"

namespace zhsm::fileserver {
namespace {

// The address clients are told: --advertise, else the listen host with the bound port
// (the host name when listening on every interface).
std::string advertised_address(const FileserverConfig& config, uint16_t port) {
  if (!config.advertise.empty()) return config.advertise;
  std::string host = host_of(config.listen);
  if (host.empty() || host == "0.0.0.0" || host == "*" || host == "[::]" || host == "::") {
    char buf[256] = {};
    host = ::gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? buf : "127.0.0.1";
  }
  return host + ":" + std::to_string(port);
}

// Every write session holds a file open: allow as many as the hard limit permits.
void raise_open_file_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
    spdlog::warn("event=open_file_limit_unchanged reason=\"setrlimit failed\"");
}


int run(const FileserverConfig& config) {
  raise_open_file_limit();
  std::string key = load_cluster_key(config.cluster_key);
  Uuid server_id = load_or_create_server_id(config.state_dir);

  // Declared before the pool: the pool (joined at its destruction) goes first.
  std::vector<std::unique_ptr<ObjectStore>> stores;
  auto context = std::make_shared<DataServiceContext>();
  for (auto& spec : config.backends) {
    auto store = ObjectStore::open(ObjectStore::Options{spec.path, spec.name, spec.tier, {}});
    auto stats = store->stats();
    spdlog::info(
        "event=backend_opened backend={} uuid={} tier={} path={} objects={} used_bytes={} "
        "free_bytes={} stale_temps_removed={}",
        spec.name, store->id().str(), spec.tier, spec.path.string(), stats.object_count,
        stats.used_bytes, stats.free_bytes, store->stale_temps_removed());
    if (!context->backends.emplace(store->id(), store.get()).second)
      throw Error(Errc::invalid, "backend directory " + spec.path.string() + " has the uuid " +
                                     store->id().str() + " of another backend given (a copy?)");
    stores.push_back(std::move(store));
  }

  Metrics metrics;
  metric::describe_all(metrics);
  asio::io_context io(1);
  asio::thread_pool pool(static_cast<size_t>(config.io_threads));
  context->cluster_key = key;
  context->pool = &pool;
  context->metrics = &metrics;
  context->in_flight = std::make_shared<std::atomic<uint32_t>>(0);
  metrics.describe("zhsm_fileserver_requests_in_flight", "gauge",
                   "data requests (reads, writes, commits) in progress");
  metrics.on_scrape([in_flight = context->in_flight](Metrics& m) {
    m.set("zhsm_fileserver_requests_in_flight", in_flight->load());
  });

  RpcServer server(
      io, config.listen,
      [context = std::shared_ptr<const DataServiceContext>(context)](const std::string& peer) {
        return std::make_shared<DataService>(context, peer);
      },
      "fileserver");
  server.start();
  std::string listen = host_of(config.listen) + ":" + std::to_string(server.port());
  std::string port_file = "listen=" + listen + "\n";

  std::unique_ptr<MetricsServer> metrics_server;
  if (!config.metrics.empty()) {
    metrics_server = std::make_unique<MetricsServer>(io, config.metrics, metrics);
    metrics_server->start();
    port_file += "metrics=" + host_of(config.metrics) + ":" +
                 std::to_string(metrics_server->port()) + "\n";
  }
  if (!config.port_file.empty()) write_port_file(config.port_file.string(), port_file);

  CopyTasksOptions copy_options;
  copy_options.backends = context->backends;
  copy_options.pool = &pool;
  copy_options.metrics = &metrics;
  copy_options.max_running = static_cast<size_t>(config.copy_tasks);
  auto copies = std::make_shared<CopyTasks>(io, copy_options);

  ControllerLinkOptions link_options;
  link_options.controller = config.controller;
  link_options.server_id = server_id;
  link_options.name = config.name;
  link_options.address = advertised_address(config, server.port());
  for (auto& s : stores) link_options.backends.push_back(s.get());
  link_options.pool = &pool;
  link_options.metrics = &metrics;
  link_options.copies = copies;
  link_options.in_flight = context->in_flight;
  auto link = std::make_shared<ControllerLink>(io, link_options);
  link->start();

  spdlog::info(
      "event=started name={} server_id={} listen={} advertise={} controller={} backends={} "
      "io_threads={} metrics={}",
      config.name, server_id.str(), listen, link_options.address, config.controller,
      stores.size(), config.io_threads, config.metrics.empty() ? "off" : config.metrics);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer grace(io);
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    spdlog::info("event=stopping signal={}", signo);
    link->stop();
    copies->stop();
    server.stop();
    metrics_server.reset();
    // Let closing connections hand their session aborts to the pool, then stop.
    grace.expires_after(std::chrono::milliseconds(200));
    grace.async_wait([&](boost::system::error_code) { io.stop(); });
  });
  io.run();
  pool.join();  // in-flight disk work and session aborts finish
  spdlog::info("event=stopped name={}", config.name);
  return 0;
}

}  // namespace
}  // namespace zhsm::fileserver

int main(int argc, char** argv) {
  using namespace zhsm;
  tune_malloc_for_bulk_io();
  fileserver::FileserverConfig config;
  try {
    if (auto code = fileserver::parse_config(argc, argv, config)) return *code;
    init_logging("fileserver", config.log_level, config.log_file);
  } catch (const std::exception& e) {
    std::cerr << "zhsm-fileserver: " << e.what() << "\n";
    return 2;
  }
  try {
    return fileserver::run(config);
  } catch (const std::exception& e) {
    spdlog::critical("event=failed reason=\"{}\"", e.what());
    return 1;
  }
}
