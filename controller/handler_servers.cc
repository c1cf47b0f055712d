// File-server and admin requests of ControllerHandler: registerServer, heartbeat,
// clusterStatus and fileInfo.
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/error.h"
#include "controller/controller_handler.h"
#include "controller/placement.h"
#include "controller/proto_convert.h"
#include "controller/placement_store.h"
#include "controller/replicator.h"
#include "common/token.h"

namespace zhsm {

awaitable<void> ControllerHandler::handle_servers(proto::Request::Reader req,
                                                  proto::Response::Builder resp) {
  using W = proto::Request::Which;
  MetaStore& store = service_.store();
  const uint32_t interval = service_.options().heartbeat_interval_ms;
  switch (req.which()) {
    case W::REGISTER_SERVER: {
      ServerReport report = server_arg(req.getRegisterServer());
      auto deletions = co_await service_.db([&] { return store.register_server(report); });
      spdlog::info("event=server_registered server={} name={} address={} backends={} peer={}",
                   report.id.str(), report.name, report.address, report.backends.size(), peer_);
      auto out = resp.initHeartbeat();
      fill_deletions(out, deletions, interval);
      fill_copy_tasks(out, report.id);
      co_return;
    }
    case W::HEARTBEAT: {
      ServerReport report = server_arg(req.getHeartbeat());
      auto deletions = co_await service_.db([&] { return store.heartbeat(report); });
      if (!report.deleted.empty() || !deletions.empty())
        spdlog::debug("event=heartbeat server={} confirmed={} to_delete={}", report.id.str(),
                      report.deleted.size(), deletions.size());
      if (Replicator* r = service_.replicator()) {
        std::vector<CopyReport> copied;
        for (auto c : req.getHeartbeat().getCopied()) {
          CopyReport cr;
          cr.backend = uuid_arg(c.getBackend(), "copied.backend");
          cr.uuid = uuid_arg(c.getUuid(), "copied.uuid");
          cr.version = c.getVersion();
          cr.ok = c.getOk();
          cr.sha256 = bytes_arg(c.getSha256());
          if (!cr.ok)
            cr.error = fmt::format("{}: {}", static_cast<int>(c.getError().getCode()),
                                   c.getError().getMessage().cStr());
          copied.push_back(std::move(cr));
        }
        std::vector<CopyProgressReport> running;
        for (auto p : req.getHeartbeat().getProgress()) {
          CopyProgressReport pr;
          pr.backend = uuid_arg(p.getBackend(), "progress.backend");
          pr.uuid = uuid_arg(p.getUuid(), "progress.uuid");
          pr.bytes_done = p.getBytesDone();
          pr.running_ms = p.getRunningMs();
          running.push_back(pr);
        }
        r->progress(report.id, running, req.getHeartbeat().getLoad());
        if (!copied.empty()) co_await r->reported(report.id, std::move(copied));
        for (auto c : req.getHeartbeat().getCorrupt()) {
          Uuid backend = uuid_arg(c.getBackend(), "corrupt.backend");
          Uuid object = uuid_arg(c.getUuid(), "corrupt.uuid");
          PlacementStore* ps = service_.placement();
          bool outdated = co_await service_.db([&] { return ps->copy_corrupt(object, backend); });
          spdlog::error("event=copy_corrupt object={} backend={} server={} action={}",
                        object.str(), backend.str(), report.id.str(),
                        outdated ? "copied again from a good copy" : "none (no other current copy)");
          r->poke();
        }
      }
      auto out = resp.initHeartbeat();
      fill_deletions(out, deletions, interval);
      fill_copy_tasks(out, report.id);
      // A server with copy work beats more often: results (a close may wait for one) and
      // new tasks travel sooner.
      if (Replicator* r = service_.replicator())
        out.setIntervalMs(r->interval_for(report.id, interval));
      co_return;
    }
    case W::CLUSTER_STATUS: {
      ClusterInfo info = co_await service_.db([&] { return store.cluster_info(); });
      const int64_t now = static_cast<int64_t>(now_ms());
      const int64_t timeout = service_.options().heartbeat_timeout_ms;
      auto out = resp.initClusterStatus();
      auto servers = out.initServers(info.servers.size());
      for (size_t i = 0; i < info.servers.size(); ++i) {
        const auto& s = info.servers[i];
        auto b = servers[i];
        b.setId(s.id.data());
        b.setName(s.name);
        b.setAddress(s.address);
        const bool live = server_live(s.last_heartbeat_ms, now, timeout);
        b.setState(s.maintenance ? "maintenance" : live ? "on" : "failed");
        b.setMaintenance(s.maintenance);
        b.setDraining(s.draining);
        b.setLastHeartbeatAgeMs(
            static_cast<uint64_t>(std::max<int64_t>(0, now - s.last_heartbeat_ms)));
        auto backends = b.initBackends(s.backends.size());
        for (size_t j = 0; j < s.backends.size(); ++j) fill_backend(backends[j], s.backends[j]);
        if (Replicator* r = service_.replicator()) b.setLoad(r->load_of(s.id));
      }
      if (Replicator* r = service_.replicator()) {
        constexpr size_t kMaxProblems = 100;
        std::vector<std::string> problems = r->problems();
        out.setProblemCount(problems.size());
        auto list = out.initProblems(std::min(problems.size(), kMaxProblems));
        for (size_t i = 0; i < list.size(); ++i) list.set(i, problems[i]);
        const size_t running = r->running_jobs();
        out.setJobsRunning(running);
        out.setJobsQueued(r->jobs().size() - running);
      }
      out.setFiles(info.files);
      out.setDirectories(info.directories);
      out.setDataObjects(info.data_objects);
      out.setDataBytes(info.data_bytes);
      out.setClients(info.clients);
      out.setOpenTokens(info.open_tokens);
      co_return;
    }
    case W::FILE_INFO: {
      std::string path = bytes_arg(req.getFileInfo().getPath());
      FileInfoResult info = co_await service_.db([&] { return store.file_info(path); });
      auto out = resp.initFileInfo();
      fill_attr(out.initAttr(), info.attr);
      out.setInline(info.is_inline);
      out.setChunkSize(info.chunk_size);
      fill_chunks(out.initChunks(info.chunks.size()), info.chunks);
      co_return;
    }
    default:
      throw Error(Errc::internal, "handle_servers called for another request kind");
  }
}

void ControllerHandler::fill_copy_tasks(proto::HeartbeatReply::Builder out, const Uuid& server) {
  Replicator* r = service_.replicator();
  if (!r) return;
  std::vector<CopyJob> jobs = r->take_tasks(server);
  out.setBandwidthLimit(r->options().bandwidth_limit);
  if (jobs.empty()) return;
  const uint64_t expires = now_ms() + static_cast<uint64_t>(r->options().token_lifetime_ms);
  auto list = out.initCopyObjects(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    const CopyJob& j = jobs[i];
    auto t = list[i];
    t.setBackend(j.backend.data());
    t.setUuid(j.uuid.data());
    t.setIndex(j.index);
    t.setVersion(j.version);
    t.setSize(j.size);
    t.setSha256(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(j.sha256.data()),
                                    j.sha256.size()));
    t.setMtimeNs(j.mtime_ns);
    // A read token of the controller's own (id 0, client 0): file servers check only its MAC.
    TokenFields f;
    f.fsid = j.fsid;
    f.ino = j.ino;
    f.mode = proto::AccessMode::READ;
    f.expires_ms = expires;
    sign_token(r->cluster_key(), f, t.initToken());
    auto sources = t.initSources(j.sources.size());
    for (size_t k = 0; k < j.sources.size(); ++k) fill_copy(sources[k], j.sources[k]);
  }
  spdlog::debug("event=copy_tasks_sent server={} tasks={}", server.str(), jobs.size());
}

}  // namespace zhsm
