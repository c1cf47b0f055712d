// File-server and admin requests of ControllerHandler: registerServer, heartbeat,
// clusterStatus and fileInfo.
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/error.h"
#include "controller/controller_handler.h"
#include "controller/placement.h"
#include "controller/proto_convert.h"

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
      fill_deletions(resp.initHeartbeat(), deletions, interval);
      co_return;
    }
    case W::HEARTBEAT: {
      ServerReport report = server_arg(req.getHeartbeat());
      auto deletions = co_await service_.db([&] { return store.heartbeat(report); });
      if (!report.deleted.empty() || !deletions.empty())
        spdlog::debug("event=heartbeat server={} confirmed={} to_delete={}", report.id.str(),
                      report.deleted.size(), deletions.size());
      fill_deletions(resp.initHeartbeat(), deletions, interval);
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
        b.setState(server_live(s.last_heartbeat_ms, now, timeout) ? "on" : "failed");
        b.setLastHeartbeatAgeMs(
            static_cast<uint64_t>(std::max<int64_t>(0, now - s.last_heartbeat_ms)));
        auto backends = b.initBackends(s.backends.size());
        for (size_t j = 0; j < s.backends.size(); ++j) fill_backend(backends[j], s.backends[j]);
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

}  // namespace zhsm
