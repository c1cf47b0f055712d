// PlacementStore for PgMetaStore: file resolve chains, the chained files with their copies,
// and the copy rows the replicator changes (controller/placement_store.h).
#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "controller/db/pg_layout.h"
#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_rows.h"

namespace zhsm {

void prepare_chain_statements(pqxx::connection& c) {
  c.prepare("chains_all", "SELECT name, copies, stripe, ack FROM chains ORDER BY name");
  c.prepare("chain_rules_all", "SELECT chain, rule FROM chain_rules ORDER BY chain, position");
  c.prepare("dir_chains_all", "SELECT chain, ino FROM dir_chains ORDER BY chain, ino");
  c.prepare("chain_exists", "SELECT 1 FROM chains WHERE name = $1 FOR UPDATE");
  c.prepare("chain_insert",
            "INSERT INTO chains (name, copies, stripe, ack) VALUES ($1, $2, $3, $4)");
  c.prepare("chain_numbers",
            "UPDATE chains SET copies = coalesce($2, copies), stripe = coalesce($3, stripe), "
            "ack = coalesce($4, ack) WHERE name = $1");
  c.prepare("file_accesses_sum",
            "SELECT coalesce(sum(count), 0) FROM file_accesses WHERE ino = $1 AND hour >= $2");
  // One statement for a whole batch: files deleted since their opens were counted drop out
  // by the join.
  c.prepare("file_accesses_add",
            "INSERT INTO file_accesses (ino, hour, count) "
            "SELECT i.ino, $3, n.count FROM unnest($1::bigint[], $2::bigint[]) AS n (ino, count) "
            "JOIN inodes i ON i.ino = n.ino "
            "ON CONFLICT (ino, hour) DO UPDATE SET count = file_accesses.count + excluded.count");
  c.prepare("file_accesses_forget", "DELETE FROM file_accesses WHERE hour < $1");
  c.prepare("chain_rules_clear", "DELETE FROM chain_rules WHERE chain = $1");
  c.prepare("chain_rules_of", "SELECT rule FROM chain_rules WHERE chain = $1 ORDER BY position");
  c.prepare("chain_rule_insert",
            "INSERT INTO chain_rules (chain, position, rule) VALUES ($1, $2, $3)");
  c.prepare("chain_named_by_dir", "SELECT ino FROM dir_chains WHERE chain = $1 LIMIT 1");
  c.prepare("chain_delete", "DELETE FROM chains WHERE name = $1");
  c.prepare("dir_chain_set",
            "INSERT INTO dir_chains (ino, chain) VALUES ($1, $2) "
            "ON CONFLICT (ino) DO UPDATE SET chain = excluded.chain");
  c.prepare("dir_chain_clear", "DELETE FROM dir_chains WHERE ino = $1");
  c.prepare("chunked_files", "SELECT DISTINCT ino FROM chunks WHERE ino > $1 ORDER BY ino LIMIT $2");
  // The names from the root down to the file (one of its links), each with the chain the
  // directory holding it names, if any: nearest directory last. The file's links are
  // found through dentries_ino and only then ordered (OFFSET 0 keeps them apart):
  // left to itself, the planner may walk dentries_pkey in (parent, name) order looking
  // for the inode, every entry of the namespace for each file (3 ms at 26,000 entries,
  // against 0.2 ms), which made each replicator pass quadratic in the namespace.
  c.prepare("file_path",
            "WITH RECURSIVE up (ino, name, parent, depth) AS ("
            " (SELECT ino, name, parent, 0 FROM"
            " (SELECT ino, name, parent FROM dentries WHERE ino = $1 OFFSET 0) links"
            " ORDER BY parent, name LIMIT 1)"
            " UNION ALL"
            " SELECT d.ino, d.name, d.parent, up.depth + 1 FROM up JOIN dentries d ON d.ino = up.parent"
            " WHERE up.parent <> 1 AND up.depth < 4096) "
            "SELECT up.name, up.parent, dc.chain FROM up LEFT JOIN dir_chains dc ON dc.ino = up.parent "
            "ORDER BY up.depth DESC");
  c.prepare("copy_want",
            "INSERT INTO chunk_copies (uuid, backend_id, state, version) VALUES ($1, $2, 2, 0) "
            "ON CONFLICT DO NOTHING");
  c.prepare("deletion_pending",
            "SELECT 1 FROM deletions WHERE uuid = $1 AND backend_id = $2");
  c.prepare("copy_made",
            "UPDATE chunk_copies c SET state = 0, version = $3 FROM chunks k "
            "WHERE c.uuid = $1 AND c.backend_id = $2 AND k.uuid = c.uuid AND k.version = $3 "
            "AND (length(k.sha256) = 0 OR k.sha256 = $4)");
  c.prepare("copy_fill_sha",
            "UPDATE chunks SET sha256 = $3 WHERE uuid = $1 AND version = $2 AND length(sha256) = 0");
  c.prepare("copy_other_current",
            "SELECT 1 FROM chunk_copies c JOIN chunks k ON k.uuid = c.uuid "
            "WHERE c.uuid = $1 AND c.backend_id <> $2 AND c.state = 0 AND c.version = k.version "
            "LIMIT 1 FOR UPDATE OF c");
  c.prepare("copy_lock", "SELECT uuid FROM chunks WHERE uuid = $1 FOR UPDATE");
  c.prepare("copy_delete",
            "DELETE FROM chunk_copies WHERE uuid = $1 AND backend_id = $2 RETURNING state");
  c.prepare("copy_enqueue_one",
            "INSERT INTO deletions (backend_id, uuid, queued_at) VALUES ($2, $1, $3) "
            "ON CONFLICT DO NOTHING");
  c.prepare("copy_outdate_one",
            "UPDATE chunk_copies SET state = 1 WHERE uuid = $1 AND backend_id = $2 AND state = 0");
  c.prepare("server_mode",
            "UPDATE servers SET maintenance = coalesce($2, maintenance), "
            "draining = coalesce($3, draining) WHERE name = $1 RETURNING id");
}

std::vector<ChainRow> PgMetaStore::chains() {
  return txn("chains", [&](InodeTxn& t) {
    std::vector<ChainRow> out;
    for (const auto& r : t.tx().exec_prepared("chains_all"))
      out.push_back(ChainRow{r[0].c_str(), r[1].as<uint32_t>(), r[2].as<uint32_t>(),
                             r[3].as<uint32_t>(), {}, {}});
    auto find = [&](std::string_view name) {
      return std::find_if(out.begin(), out.end(), [&](const ChainRow& c) { return c.name == name; });
    };
    for (const auto& r : t.tx().exec_prepared("chain_rules_all"))
      if (auto it = find(r[0].c_str()); it != out.end()) it->rules.push_back(r[1].c_str());
    for (const auto& r : t.tx().exec_prepared("dir_chains_all"))
      if (auto it = find(r[0].c_str()); it != out.end()) it->dirs.push_back(r[1].as<uint64_t>());
    return out;
  });
}

void PgMetaStore::create_chain(const std::string& name, uint32_t copies, uint32_t stripe,
                               uint32_t ack) {
  txn("chainCreate", [&](InodeTxn& t) {
    if (!t.tx().exec_prepared("chain_exists", name).empty())
      throw Error(Errc::exists, fmt::format("chain '{}' exists", name));
    t.tx().exec_prepared("chain_insert", name, static_cast<int>(copies), static_cast<int>(stripe),
                         static_cast<int>(ack));
  });
}

void PgMetaStore::set_chain_numbers(const std::string& name, std::optional<uint32_t> copies,
                                    std::optional<uint32_t> stripe, std::optional<uint32_t> ack) {
  auto param = [](std::optional<uint32_t> v) {
    return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
  };
  txn("chainNumbers", [&](InodeTxn& t) {
    if (t.tx().exec_prepared("chain_numbers", name, param(copies), param(stripe), param(ack))
            .affected_rows() == 0)
      throw Error(Errc::not_found, fmt::format("no chain '{}'", name));
  });
}

void PgMetaStore::set_chain_rules(const std::string& name, const std::vector<std::string>& expected,
                                  const std::vector<std::string>& rules) {
  txn("chainRules", [&](InodeTxn& t) {
    // The chain's row stays locked to the end: edits of one chain go one after the other.
    if (t.tx().exec_prepared("chain_exists", name).empty())
      throw Error(Errc::not_found, fmt::format("no chain '{}'", name));
    std::vector<std::string> now;
    for (const auto& r : t.tx().exec_prepared("chain_rules_of", name)) now.push_back(r[0].c_str());
    if (now != expected)
      throw Error(Errc::stale, fmt::format("chain '{}' was changed by another edit meanwhile", name));
    t.tx().exec_prepared("chain_rules_clear", name);
    for (size_t i = 0; i < rules.size(); ++i)
      t.tx().exec_prepared("chain_rule_insert", name, static_cast<int>(i + 1), rules[i]);
  });
}

void PgMetaStore::delete_chain(const std::string& name) {
  txn("chainDelete", [&](InodeTxn& t) {
    if (t.tx().exec_prepared("chain_exists", name).empty())
      throw Error(Errc::not_found, fmt::format("no chain '{}'", name));
    auto dir = t.tx().exec_prepared("chain_named_by_dir", name);
    if (!dir.empty())
      throw Error(Errc::busy, fmt::format("chain '{}' is named by directory inode {}; "
                                          "set that directory's chain first",
                                          name, dir[0][0].c_str()));
    t.tx().exec_prepared("chain_delete", name);
  });
}

void PgMetaStore::set_dir_chain(uint64_t ino, const std::string& chain) {
  txn("chainSetDir", [&](InodeTxn& t) {
    InodeRow row = t.get(ino, true, "directory");
    if (!row.is_dir())
      throw Error(Errc::not_dir, fmt::format("inode {} is not a directory", ino));
    if (chain.empty()) {
      t.tx().exec_prepared("dir_chain_clear", static_cast<int64_t>(ino));
      return;
    }
    if (t.tx().exec_prepared("chain_exists", chain).empty())
      throw Error(Errc::not_found, fmt::format("no chain '{}'", chain));
    t.tx().exec_prepared("dir_chain_set", static_cast<int64_t>(ino), chain);
  });
}

namespace {

// Attributes, one path, the nearest named chain and the chunks of `ino`; nullopt when it
// is not a regular file.
std::optional<PlacementFile> load_placement_file(InodeTxn& t, uint64_t ino,
                                                 int64_t accesses_since_hour) {
  auto r = t.tx().exec_prepared("ino_get", static_cast<int64_t>(ino));
  if (r.empty()) return std::nullopt;
  PlacementFile f;
  f.attr = attr_from_row(r[0]);
  if (f.attr.type != proto::FileType::REGULAR) return std::nullopt;
  for (const auto& p : t.tx().exec_prepared("file_path", static_cast<int64_t>(ino))) {
    f.path += '/';
    f.path += bytes_of(p[0]);
    if (!p[2].is_null()) {  // rows run from the root down: the last mark is the nearest
      f.chain = p[2].c_str();
      f.chain_dir = p[1].as<uint64_t>();
    }
  }
  f.chunks = load_chunks(t.tx(), ino);
  f.accesses = t.tx()
                   .exec_prepared1("file_accesses_sum", static_cast<int64_t>(ino),
                                   accesses_since_hour)[0]
                   .as<uint64_t>();
  return f;
}

}  // namespace

std::string PgMetaStore::path_of(uint64_t ino) {
  if (ino == 1) return "/";
  return txn("pathOf", [&](InodeTxn& t) {
    std::string path;
    for (const auto& p : t.tx().exec_prepared("file_path", static_cast<int64_t>(ino))) {
      path += '/';
      path += bytes_of(p[0]);
    }
    return path;
  });
}

std::vector<PlacementFile> PgMetaStore::placement_files(uint64_t after, uint32_t limit,
                                                        int64_t accesses_since_hour) {
  return txn("placementFiles", [&](InodeTxn& t) {
    std::vector<PlacementFile> out;
    for (const auto& r : t.tx().exec_prepared("chunked_files", static_cast<int64_t>(after),
                                              static_cast<int64_t>(std::clamp<uint32_t>(limit, 1, 1000))))
      if (auto f = load_placement_file(t, r[0].as<uint64_t>(), accesses_since_hour))
        out.push_back(std::move(*f));
    return out;
  });
}

std::optional<PlacementFile> PgMetaStore::placement_file(uint64_t ino,
                                                         int64_t accesses_since_hour) {
  return txn("placementFile",
             [&](InodeTxn& t) { return load_placement_file(t, ino, accesses_since_hour); });
}

void PgMetaStore::add_accesses(const std::vector<std::pair<uint64_t, uint64_t>>& ino_counts,
                               int64_t hour, int64_t forget_before_hour) {
  // Arrays in PostgreSQL's text form: numbers need no quoting.
  std::string inos = "{", counts = "{";
  for (const auto& [ino, count] : ino_counts) {
    if (inos.size() > 1) {
      inos += ',';
      counts += ',';
    }
    inos += std::to_string(ino);
    counts += std::to_string(count);
  }
  inos += '}';
  counts += '}';
  txn("addAccesses", [&](InodeTxn& t) {
    if (!ino_counts.empty()) t.tx().exec_prepared("file_accesses_add", inos, counts, hour);
    t.tx().exec_prepared("file_accesses_forget", forget_before_hour);
  });
}

bool PgMetaStore::want_copy(const Uuid& uuid, const Uuid& backend) {
  return txn("wantCopy", [&](InodeTxn& t) {
    if (!t.tx().exec_prepared("deletion_pending", uuid_param(uuid), uuid_param(backend)).empty())
      return false;
    t.tx().exec_prepared("copy_want", uuid_param(uuid), uuid_param(backend));
    return true;
  });
}

bool PgMetaStore::copy_made(const Uuid& uuid, const Uuid& backend, uint64_t version,
                            const std::string& sha256) {
  return txn("copyMade", [&](InodeTxn& t) {
    t.tx().exec_prepared("copy_lock", uuid_param(uuid));
    pqxx::binarystring sha = bytes_param(sha256);
    auto v = static_cast<int64_t>(version);
    // Only a copy still wanted counts: its row exists (a dropped one has none, and the
    // deletion queued with the drop removes what the task installed).
    bool made = t.tx().exec_prepared("copy_made", uuid_param(uuid), uuid_param(backend), v, sha)
                    .affected_rows() > 0;
    if (made && sha256.size() == 32)
      t.tx().exec_prepared("copy_fill_sha", uuid_param(uuid), v, sha);
    return made;
  });
}

bool PgMetaStore::drop_copy(const Uuid& uuid, const Uuid& backend) {
  return txn("dropCopy", [&](InodeTxn& t) {
    if (t.tx().exec_prepared("copy_lock", uuid_param(uuid)).empty()) return false;
    if (t.tx().exec_prepared("copy_other_current", uuid_param(uuid), uuid_param(backend)).empty())
      return false;
    if (t.tx().exec_prepared("copy_delete", uuid_param(uuid), uuid_param(backend)).empty())
      return false;
    t.tx().exec_prepared("copy_enqueue_one", uuid_param(uuid), uuid_param(backend), t.now_ms());
    return true;
  });
}

bool PgMetaStore::copy_corrupt(const Uuid& uuid, const Uuid& backend) {
  return txn("copyCorrupt", [&](InodeTxn& t) {
    if (t.tx().exec_prepared("copy_lock", uuid_param(uuid)).empty()) return false;
    if (t.tx().exec_prepared("copy_other_current", uuid_param(uuid), uuid_param(backend)).empty())
      return false;
    return t.tx().exec_prepared("copy_outdate_one", uuid_param(uuid), uuid_param(backend))
               .affected_rows() > 0;
  });
}

void PgMetaStore::set_server_mode(const std::string& name, std::optional<bool> maintenance,
                                  std::optional<bool> draining) {
  txn("serverMode", [&](InodeTxn& t) {
    if (t.tx().exec_prepared("server_mode", name, maintenance, draining).empty())
      throw Error(Errc::not_found, fmt::format("no file server named '{}'", name));
  });
}

}  // namespace zhsm
