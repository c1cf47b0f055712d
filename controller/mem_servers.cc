// Clients, file servers and cluster-wide views for MemMetaStore: client sessions,
// registerServer and heartbeat (backends, the deletion queue), statfs, cluster status and
// the admin's file info by path, following controller/db/pg_servers.cc. A report that
// fails part-way (a backend name held by another backend) leaves servers and backends as
// they were.
#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "common/error.h"
#include "controller/mem_meta_store.h"
#include "controller/meta_checks.h"
#include "controller/names.h"
#include "controller/placement.h"

namespace zhsm {
namespace {

// The database keeps these numbers as bigint.
uint64_t as_bigint(uint64_t v) { return std::min<uint64_t>(v, INT64_MAX); }

}  // namespace

uint64_t MemMetaStore::add_client(const std::string& name) {
  auto lock = begin();
  uint64_t id = next_client_++;
  clients_[id] = Client{name, now_ms()};
  return id;
}

void MemMetaStore::touch_client(uint64_t client_id) {
  auto lock = begin();
  if (auto it = clients_.find(client_id); it != clients_.end()) it->second.last_seen_ms = now_ms();
}

bool MemMetaStore::clients_seen_since(int64_t since_ms) {
  auto lock = begin();
  for (const auto& [id, c] : clients_)
    if (c.last_seen_ms >= since_ms) return true;
  return false;
}

void MemMetaStore::upsert_backends(const ServerReport& report) {
  for (const auto& b : report.backends) {
    auto it = backends_.find(b.id);
    if (b.name.empty()) {  // a heartbeat may carry only the numbers
      if (it == backends_.end() || it->second.server != report.id) continue;
      auto& r = it->second.report;
      r.total_bytes = as_bigint(b.total_bytes);
      r.free_bytes = as_bigint(b.free_bytes);
      r.used_bytes = as_bigint(b.used_bytes);
      r.object_count = as_bigint(b.object_count);
      r.device_id = as_bigint(b.device_id);
      it->second.updated_ms = now_ms();
      continue;
    }
    for (const auto& [id, other] : backends_) {
      if (id == b.id || other.report.name != b.name) continue;
      auto owner = servers_.find(other.server);
      throw Error(Errc::exists,
                  fmt::format("backend name '{}' (reported by server {} as {}) is already used by "
                              "backend {} on server '{}'",
                              b.name, report.id.str(), b.id.str(), id.str(),
                              owner == servers_.end() ? "" : owner->second.name));
    }
    Backend row;
    row.server = report.id;
    row.report = b;
    row.report.total_bytes = as_bigint(b.total_bytes);
    row.report.free_bytes = as_bigint(b.free_bytes);
    row.report.used_bytes = as_bigint(b.used_bytes);
    row.report.object_count = as_bigint(b.object_count);
    row.report.device_id = as_bigint(b.device_id);
    row.updated_ms = now_ms();
    backends_[b.id] = std::move(row);
  }
}

std::vector<ObjectAddr> MemMetaStore::pending_deletions(const Uuid& server) const {
  std::vector<std::pair<int64_t, ObjectAddr>> queued;  // (queued at, object)
  for (const auto& [key, queued_at] : deletions_) {
    auto b = backends_.find(key.first);
    if (b != backends_.end() && b->second.server == server)
      queued.emplace_back(queued_at, ObjectAddr{key.first, key.second});
  }
  std::stable_sort(queued.begin(), queued.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<ObjectAddr> out;
  for (const auto& [queued_at, addr] : queued) {
    if (out.size() == kMaxDeletionsPerBeat) break;
    out.push_back(addr);
  }
  return out;
}

std::vector<ObjectAddr> MemMetaStore::register_server(const ServerReport& report) {
  check_server_report(report, true);
  auto lock = begin();
  for (const auto& [id, s] : servers_)
    if (id != report.id && s.name == report.name)
      throw Error(Errc::exists,
                  fmt::format("server name '{}' is already registered with UUID {} (this server "
                              "has UUID {})",
                              report.name, id.str(), report.id.str()));
  auto saved_servers = servers_;
  auto saved_backends = backends_;
  try {
    servers_[report.id] = Server{report.name, report.address, now_ms()};
    upsert_backends(report);
  } catch (...) {
    servers_ = std::move(saved_servers);
    backends_ = std::move(saved_backends);
    throw;
  }
  return pending_deletions(report.id);
}

std::vector<ObjectAddr> MemMetaStore::heartbeat(const ServerReport& report) {
  check_server_report(report, false);
  auto lock = begin();
  auto server = servers_.find(report.id);
  if (server == servers_.end())
    throw Error(Errc::not_found,
                fmt::format("server {} is not registered; register again", report.id.str()));
  auto saved_servers = servers_;
  auto saved_backends = backends_;
  try {
    server->second.last_heartbeat_ms = now_ms();
    upsert_backends(report);
  } catch (...) {
    servers_ = std::move(saved_servers);
    backends_ = std::move(saved_backends);
    throw;
  }
  for (const auto& d : report.deleted) deletions_.erase({d.backend, d.uuid});
  return pending_deletions(report.id);
}

std::vector<ServerState> MemMetaStore::servers_locked() const {
  std::vector<ServerState> out;
  for (const auto& [id, s] : servers_) {
    ServerState state;
    state.id = id;
    state.name = s.name;
    state.address = s.address;
    state.last_heartbeat_ms = s.last_heartbeat_ms;
    for (const auto& [backend_id, b] : backends_)
      if (b.server == id) state.backends.push_back(b.report);
    std::sort(state.backends.begin(), state.backends.end(),
              [](const BackendReport& x, const BackendReport& y) { return x.name < y.name; });
    out.push_back(std::move(state));
  }
  std::sort(out.begin(), out.end(),
            [](const ServerState& x, const ServerState& y) { return x.name < y.name; });
  return out;
}

std::vector<ServerState> MemMetaStore::servers() {
  auto lock = begin();
  return servers_locked();
}

StatfsInfo MemMetaStore::statfs() {
  auto lock = begin();
  // Backends of one server on one device share its space: each (server, device) counts
  // once, with the largest numbers reported for it; a backend without a device (0)
  // counts alone.
  std::map<std::tuple<Uuid, uint64_t, Uuid>, std::pair<uint64_t, uint64_t>> devices;
  for (const auto& [id, b] : backends_) {
    auto s = servers_.find(b.server);
    if (s == servers_.end() ||
        !server_live(s->second.last_heartbeat_ms, now_ms(), options_.heartbeat_timeout_ms))
      continue;
    const Uuid alone = b.report.device_id == 0 ? id : Uuid();
    auto& [total, free] = devices[{b.server, b.report.device_id, alone}];
    total = std::max(total, b.report.total_bytes);
    free = std::max(free, b.report.free_bytes);
  }
  StatfsInfo out;
  for (const auto& [key, space] : devices) {
    out.total_bytes += space.first;
    out.free_bytes += space.second;
  }
  out.files = inodes_.size();  // exact here; PostgreSQL estimates
  return out;
}

ClusterInfo MemMetaStore::cluster_info() {
  auto lock = begin();
  ClusterInfo out;
  out.servers = servers_locked();
  for (const auto& [ino, inode] : inodes_) {
    if (inode.attr.nlink == 0) continue;
    if (inode.is_dir())
      ++out.directories;
    else
      ++out.files;
  }
  for (const auto& [ino, chunks] : chunks_) {
    out.data_objects += chunks.size();
    for (const auto& [index, chunk] : chunks) out.data_bytes += chunk.size;
  }
  for (const auto& [id, c] : clients_)
    if (c.last_seen_ms >= now_ms() - options_.client_recent_ms) ++out.clients;
  for (const auto& [id, t] : tokens_)
    if (t.expires_ms >= now_ms()) ++out.open_tokens;
  return out;
}

FileInfoResult MemMetaStore::file_info(std::string_view path) {
  auto names = split_path(path);
  auto lock = begin();
  const Inode* cur = &get(1, "root directory");
  std::string walked;
  for (const auto& name : names) {
    if (!cur->is_dir()) throw Error(Errc::not_dir, fmt::format("'{}' is not a directory", walked));
    if (name == "..") {
      cur = &get(cur->parent);
    } else {
      auto ino = entry(cur->attr.ino, name);
      if (!ino)
        throw Error(Errc::not_found, fmt::format("no entry '{}' in '{}'", printable_name(name),
                                                 walked.empty() ? "/" : walked));
      cur = &get(*ino);
    }
    walked += "/" + printable_name(name);
  }
  FileInfoResult out;
  out.attr = cur->attr;
  out.chunk_size = settings_.chunk_size;
  if (cur->attr.type == proto::FileType::REGULAR) {
    out.chunks = load_chunks(cur->attr.ino);
    out.is_inline = out.chunks.empty() && cur->attr.size <= settings_.inline_max;
  }
  return out;
}

}  // namespace zhsm
