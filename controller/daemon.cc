// Wiring of the controller process (see daemon.h): main() builds nothing itself.
#include "controller/daemon.h"

#include <csignal>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "common/asio.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/metrics.h"
#include "common/port_file.h"
#include "common/rpc_server.h"
#include "common/token.h"
#include "controller/controller_service.h"
#include "controller/db/pg_connect.h"
#include "controller/db/pg_meta_store.h"
#include "controller/meta_cache.h"
#include "controller/replicator.h"
#include "controller/sweeper.h"

namespace zhsm {
namespace {

constexpr auto kSweepInterval = std::chrono::seconds(3);

}  // namespace

int run_controller(const ControllerConfig& cfg) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::string key = load_cluster_key(cfg.cluster_key);

  PgConnectOptions pg;
  pg.conninfo = cfg.db;
  pg.connections = cfg.db_threads;
  pg.chunk_size = cfg.chunk_size;
  pg.inline_max = cfg.inline_max;
  pg.store.heartbeat_timeout_ms = int64_t{cfg.heartbeat_timeout_s} * 1000;
  pg.store.token_lifetime_ms = int64_t{cfg.token_lifetime_s} * 1000;
  PgConnected db = connect_postgres(pg);
  const Settings& settings = db.store->settings();
  spdlog::info("event=database_ready db=\"{}\" schema_from={} schema={} cluster={} chunk_size={} "
               "inline_max={}",
               redact_conninfo(cfg.db), db.schema_from, db.schema_to, settings.cluster_id.str(),
               settings.chunk_size, settings.inline_max);

  // Lookups, stats and xattr reads answered from memory (controller/meta_cache.h).
  PlacementStore* placement = dynamic_cast<PlacementStore*>(db.store.get());
  std::unique_ptr<MetaStore> store = std::move(db.store);
  CachingMetaStore* cache = nullptr;
  if (cfg.meta_cache > 0) {
    MetaCacheOptions mo;
    mo.attrs = cfg.meta_cache;
    mo.entries = cfg.meta_cache;
    mo.xattrs = std::max<size_t>(cfg.meta_cache / 4, 1);
    mo.inline_files = cfg.inline_cache_mib > 0 ? cfg.meta_cache : 0;
    mo.inline_bytes = size_t{cfg.inline_cache_mib} << 20;
    auto cached = std::make_unique<CachingMetaStore>(std::move(store), mo);
    cache = cached.get();
    store = std::move(cached);
    // A replaced connection may mean a restarted PostgreSQL that lost the changes
    // committed without a flush: nothing the cache saw may outlive them.
    if (auto* pg = dynamic_cast<PgMetaStore*>(placement))
      pg->pool().on_replaced([cache] { cache->forget_everything(); });
  }

  asio::io_context io;
  asio::thread_pool db_pool(cfg.db_threads);
  Metrics metrics;
  if (cache) cache->expose(metrics);
  ServiceOptions so;
  so.cluster_key = key;
  so.token_lifetime_ms = pg.store.token_lifetime_ms;
  so.heartbeat_timeout_ms = pg.store.heartbeat_timeout_ms;
  so.client_grace_ms = int64_t{cfg.client_grace_s} * 1000;
  so.commit_group = cfg.commit_group;
  so.dir_lease = std::chrono::milliseconds(cfg.dir_lease_ms);
  ControllerService service(*store, db_pool, metrics, so);
  if (service.leases().enabled()) {
    // This controller knows no leases, but a mount that did not see the previous one go
    // (its machine died, the network split) may trust one until its time is up: when any
    // client was about lately (touched at least once a minute), adds wait that long.
    const int64_t recent_ms = 120000 + int64_t{cfg.dir_lease_ms};
    if (store->clients_seen_since(now_ms() - recent_ms)) {
      service.leases().hold_adds_until(std::chrono::steady_clock::now() + so.dir_lease);
      spdlog::info("event=lease_grace ms={} reason=\"clients seen in the last {} s\"",
                   cfg.dir_lease_ms, recent_ms / 1000);
    }
  }

  RpcServer server(
      io, cfg.listen, [&service](const std::string& peer) { return service.make_handler(peer); },
      "controller");
  server.start();
  std::string listen = host_of(cfg.listen) + ":" + std::to_string(server.port());

  std::unique_ptr<MetricsServer> metrics_server;
  std::string metrics_addr;
  if (!cfg.metrics.empty()) {
    metrics_server = std::make_unique<MetricsServer>(io, cfg.metrics, metrics);
    metrics_server->start();
    metrics_addr = host_of(cfg.metrics) + ":" + std::to_string(metrics_server->port());
  }
  if (!cfg.port_file.empty()) {
    std::string content = "listen=" + listen + "\n";
    if (!metrics_addr.empty()) content += "metrics=" + metrics_addr + "\n";
    write_port_file(cfg.port_file, content);
  }

  Sweeper sweeper(io, service, kSweepInterval);
  sweeper.start();

  // Copies where the file resolve chains want them (controller/replicator.h).
  std::unique_ptr<Replicator> replicator;
  if (placement) {
    ReplicatorOptions ro;
    ro.decide.heartbeat_timeout_ms = so.heartbeat_timeout_ms;
    ro.decide.repair_grace_ms = int64_t{cfg.repair_grace_s} * 1000;
    ro.bandwidth_limit = cfg.copy_bandwidth;
    ro.access_window_s = cfg.access_window_s;
    ro.ack_timeout_ms = int64_t{cfg.ack_timeout_s} * 1000;
    replicator = std::make_unique<Replicator>(io, service, *placement, ro);
    service.set_replicator(replicator.get(), placement);
    replicator->start();
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("event=stopping signal={}", signo);
    sweeper.stop();
    if (replicator) replicator->stop();
    server.stop();
    io.stop();
  });

  spdlog::info("event=start listen={} metrics={} db_threads={} token_lifetime_s={} "
               "heartbeat_timeout_s={} client_grace_s={} meta_cache={} inline_cache_mib={} "
               "commit_group={} dir_lease_ms={}",
               listen, metrics_addr.empty() ? "off" : metrics_addr, cfg.db_threads,
               cfg.token_lifetime_s, cfg.heartbeat_timeout_s, cfg.client_grace_s,
               cfg.meta_cache, cfg.inline_cache_mib, cfg.commit_group, cfg.dir_lease_ms);
  io.run();
  db_pool.join();
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace zhsm
