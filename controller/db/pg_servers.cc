// Clients, file servers and cluster-wide views for PgMetaStore: client sessions,
// registerServer and heartbeat (backends, the deletion queue), statfs, cluster status and
// the admin's file info by path.
#include <fmt/format.h>

#include "common/error.h"
#include "controller/db/pg_layout.h"
#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_rows.h"
#include "controller/meta_checks.h"
#include "controller/names.h"
#include "controller/placement.h"

namespace zhsm {
namespace {

int64_t as_bigint(uint64_t v) {
  return v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
}

}  // namespace

void prepare_server_statements(pqxx::connection& c) {
  c.prepare("client_insert", "INSERT INTO clients (name, last_seen) VALUES ($1, $2) RETURNING id");
  c.prepare("client_touch", "UPDATE clients SET last_seen = $2 WHERE id = $1");
  c.prepare("server_name_owner", "SELECT id FROM servers WHERE name = $1 AND id <> $2");
  c.prepare("server_upsert",
            "INSERT INTO servers (id, name, address, last_heartbeat) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, "
            "last_heartbeat = excluded.last_heartbeat");
  c.prepare("server_beat", "UPDATE servers SET last_heartbeat = $2 WHERE id = $1 RETURNING name");
  c.prepare("backend_name_owner",
            "SELECT b.id, s.name FROM backends b JOIN servers s ON s.id = b.server_id "
            "WHERE b.name = $1 AND b.id <> $2");
  c.prepare("backend_upsert",
            "INSERT INTO backends (id, server_id, name, tier, path, total_bytes, free_bytes, "
            "used_bytes, object_count, updated_at, device_id) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (id) DO UPDATE SET server_id = excluded.server_id, name = excluded.name, "
            "tier = excluded.tier, path = excluded.path, total_bytes = excluded.total_bytes, "
            "free_bytes = excluded.free_bytes, used_bytes = excluded.used_bytes, "
            "object_count = excluded.object_count, updated_at = excluded.updated_at, "
            "device_id = excluded.device_id");
  c.prepare("backend_numbers",
            "UPDATE backends SET total_bytes = $3, free_bytes = $4, used_bytes = $5, "
            "object_count = $6, updated_at = $7, device_id = $8 WHERE id = $1 AND server_id = $2");
  c.prepare("deletion_done", "DELETE FROM deletions WHERE backend_id = $1 AND uuid = $2");
  c.prepare("deletions_pending",
            "SELECT b.id, d.uuid FROM backends b CROSS JOIN LATERAL "
            "(SELECT uuid, queued_at FROM deletions WHERE backend_id = b.id "
            " ORDER BY queued_at LIMIT $2) d "
            "WHERE b.server_id = $1 ORDER BY d.queued_at LIMIT $2");
  c.prepare("servers_all",
            "SELECT s.id, s.name, s.address, s.last_heartbeat, b.id, b.name, b.tier, b.path, "
            "b.total_bytes, b.free_bytes, b.used_bytes, b.object_count, b.device_id, "
            "s.maintenance, s.draining FROM servers s LEFT JOIN backends b ON b.server_id = s.id ORDER BY s.name, b.name");
  // Backends of one server on one device share that device's space: each (server,
  // device) counts once; a backend that reported no device (0) counts alone.
  c.prepare("statfs_space",
            "SELECT coalesce(sum(total), 0), coalesce(sum(free), 0) FROM "
            "(SELECT max(b.total_bytes) AS total, max(b.free_bytes) AS free "
            " FROM backends b JOIN servers s ON s.id = b.server_id WHERE s.last_heartbeat >= $1 "
            " GROUP BY b.server_id, b.device_id, CASE WHEN b.device_id = 0 THEN b.id END) d");
  c.prepare("statfs_files",
            "SELECT greatest(c.reltuples, 0)::bigint, (SELECT last_value FROM inodes_ino_seq) "
            "FROM pg_class c WHERE c.oid = 'inodes'::regclass");
  c.prepare("count_inodes",
            "SELECT count(*) FILTER (WHERE type <> 1), count(*) FILTER (WHERE type = 1) "
            "FROM inodes WHERE nlink > 0");
  c.prepare("count_chunks", "SELECT count(*), coalesce(sum(size), 0)::bigint FROM chunks");
  c.prepare("count_clients", "SELECT count(*) FROM clients WHERE last_seen >= $1");
  c.prepare("clients_seen", "SELECT EXISTS (SELECT 1 FROM clients WHERE last_seen >= $1)");
  c.prepare("count_tokens", "SELECT count(*) FROM tokens WHERE expires_at_ms >= $1");
}

uint64_t PgMetaStore::add_client(const std::string& name) {
  return txn("hello", [&](InodeTxn& t) {
    return t.tx().exec_prepared("client_insert", name, t.now_ms())[0][0].as<uint64_t>();
  });
}

void PgMetaStore::touch_client(uint64_t client_id) {
  txn("touchClient", [&](InodeTxn& t) {
    t.tx().exec_prepared("client_touch", static_cast<int64_t>(client_id), t.now_ms());
  });
}

bool PgMetaStore::clients_seen_since(int64_t since_ms) {
  return read_one("clientsSeen", [&](pqxx::nontransaction& tx) {
    return tx.exec_prepared("clients_seen", since_ms)[0][0].as<bool>();
  });
}

void PgMetaStore::upsert_backends(InodeTxn& t, const ServerReport& report) {
  for (const auto& b : report.backends) {
    if (b.name.empty()) {  // a heartbeat may carry only the numbers
      t.tx().exec_prepared("backend_numbers", uuid_param(b.id), uuid_param(report.id),
                           as_bigint(b.total_bytes), as_bigint(b.free_bytes),
                           as_bigint(b.used_bytes), as_bigint(b.object_count), t.now_ms(),
                           as_bigint(b.device_id));
      continue;
    }
    auto owner = t.tx().exec_prepared("backend_name_owner", b.name, uuid_param(b.id));
    if (!owner.empty())
      throw Error(Errc::exists,
                  fmt::format("backend name '{}' (reported by server {} as {}) is already used by "
                              "backend {} on server '{}'",
                              b.name, report.id.str(), b.id.str(), owner[0][0].c_str(),
                              owner[0][1].c_str()));
    t.tx().exec_prepared("backend_upsert", uuid_param(b.id), uuid_param(report.id), b.name, b.tier,
                         b.path, as_bigint(b.total_bytes), as_bigint(b.free_bytes),
                         as_bigint(b.used_bytes), as_bigint(b.object_count), t.now_ms(),
                         as_bigint(b.device_id));
  }
}

std::vector<ObjectAddr> PgMetaStore::pending_deletions(InodeTxn& t, const Uuid& server) {
  std::vector<ObjectAddr> out;
  for (const auto& r :
       t.tx().exec_prepared("deletions_pending", uuid_param(server),
                            static_cast<int64_t>(kMaxDeletionsPerBeat)))
    out.push_back(ObjectAddr{uuid_of(r[0]), uuid_of(r[1])});
  return out;
}

std::vector<ObjectAddr> PgMetaStore::register_server(const ServerReport& report) {
  check_server_report(report, true);
  return txn("registerServer", [&](InodeTxn& t) {
    auto owner = t.tx().exec_prepared("server_name_owner", report.name, uuid_param(report.id));
    if (!owner.empty())
      throw Error(Errc::exists,
                  fmt::format("server name '{}' is already registered with UUID {} (this server "
                              "has UUID {})",
                              report.name, owner[0][0].c_str(), report.id.str()));
    t.tx().exec_prepared("server_upsert", uuid_param(report.id), report.name, report.address,
                         t.now_ms());
    upsert_backends(t, report);
    return pending_deletions(t, report.id);
  });
}

std::vector<ObjectAddr> PgMetaStore::heartbeat(const ServerReport& report) {
  check_server_report(report, false);
  return txn("heartbeat", [&](InodeTxn& t) {
    if (t.tx().exec_prepared("server_beat", uuid_param(report.id), t.now_ms()).empty())
      throw Error(Errc::not_found,
                  fmt::format("server {} is not registered; register again", report.id.str()));
    upsert_backends(t, report);
    for (const auto& d : report.deleted)
      t.tx().exec_prepared("deletion_done", uuid_param(d.backend), uuid_param(d.uuid));
    return pending_deletions(t, report.id);
  });
}

std::vector<ServerState> PgMetaStore::servers() {
  return txn("servers", [&](InodeTxn& t) {
    std::vector<ServerState> out;
    for (const auto& r : t.tx().exec_prepared("servers_all")) {
      Uuid id = uuid_of(r[0]);
      if (out.empty() || out.back().id != id) {
        ServerState s;
        s.id = id;
        s.name = r[1].c_str();
        s.address = r[2].c_str();
        s.last_heartbeat_ms = r[3].as<int64_t>();
        s.maintenance = r[13].as<bool>();
        s.draining = r[14].as<bool>();
        out.push_back(std::move(s));
      }
      if (r[4].is_null()) continue;
      BackendReport b;
      b.id = uuid_of(r[4]);
      b.name = r[5].c_str();
      b.tier = r[6].c_str();
      b.path = r[7].c_str();
      b.total_bytes = r[8].as<uint64_t>();
      b.free_bytes = r[9].as<uint64_t>();
      b.used_bytes = r[10].as<uint64_t>();
      b.object_count = r[11].as<uint64_t>();
      b.device_id = r[12].as<uint64_t>();
      out.back().backends.push_back(std::move(b));
    }
    return out;
  });
}

void PgMetaStore::sync() {
  // A transaction id makes the commit write a commit record, and a synchronous
  // commit flushes the write-ahead log up to it: every earlier relaxed commit with it.
  txn("sync", [&](InodeTxn& t) { t.tx().exec1("SELECT txid_current()"); });
}

StatfsInfo PgMetaStore::statfs() {
  return txn("statfs", [&](InodeTxn& t) {
    StatfsInfo out;
    auto space =
        t.tx().exec_prepared("statfs_space", t.now_ms() - options_.heartbeat_timeout_ms);
    out.total_bytes = space[0][0].as<uint64_t>();
    out.free_bytes = space[0][1].as<uint64_t>();
    auto files = t.tx().exec_prepared("statfs_files");
    uint64_t estimate = files[0][0].as<uint64_t>();
    out.files = estimate > 0 ? estimate : files[0][1].as<uint64_t>();
    return out;
  });
}

ClusterInfo PgMetaStore::cluster_info() {
  ClusterInfo out;
  out.servers = servers();
  txn("clusterStatus", [&](InodeTxn& t) {
    auto inodes = t.tx().exec_prepared("count_inodes");
    out.files = inodes[0][0].as<uint64_t>();
    out.directories = inodes[0][1].as<uint64_t>();
    auto chunks = t.tx().exec_prepared("count_chunks");
    out.data_objects = chunks[0][0].as<uint64_t>();
    out.data_bytes = chunks[0][1].as<uint64_t>();
    out.clients = t.tx().exec_prepared("count_clients", t.now_ms() - options_.client_recent_ms)[0][0]
                      .as<uint64_t>();
    out.open_tokens = t.tx().exec_prepared("count_tokens", t.now_ms())[0][0].as<uint64_t>();
  });
  return out;
}

FileInfoResult PgMetaStore::file_info(std::string_view path) {
  auto names = split_path(path);
  return txn("fileInfo", [&](InodeTxn& t) {
    InodeRow cur = t.get(1, false, "root directory");
    std::string walked;
    for (const auto& name : names) {
      if (!cur.is_dir())
        throw Error(Errc::not_dir, fmt::format("'{}' is not a directory", walked));
      if (name == "..") {
        cur = t.get(cur.parent, false);
      } else {
        auto ino = t.entry(cur.attr.ino, name);
        if (!ino)
          throw Error(Errc::not_found, fmt::format("no entry '{}' in '{}'", printable_name(name),
                                                   walked.empty() ? "/" : walked));
        cur = t.get(*ino, false);
      }
      walked += "/" + printable_name(name);
    }
    FileInfoResult out;
    out.attr = cur.attr;
    out.chunk_size = settings_.chunk_size;
    if (cur.attr.type == proto::FileType::REGULAR) {
      out.chunks = load_chunks(t.tx(), cur.attr.ino);
      out.is_inline = out.chunks.empty() && cur.attr.size <= settings_.inline_max;
    }
    return out;
  });
}

}  // namespace zhsm
