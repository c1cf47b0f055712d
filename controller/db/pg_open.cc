// Open files for PgMetaStore: open and create (with truncation), token rows (release,
// renewal, expiry), commitData (the controller's half of a write session, see
// doc/architecture.md) and the sweeper's reclaiming of orphans.
#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <pqxx/except>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "controller/db/pg_layout.h"
#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_rows.h"
#include "controller/meta_checks.h"
#include "controller/names.h"

namespace zhsm {

void prepare_open_statements(pqxx::connection& c) {
  const std::string cols = attr_columns();
  c.prepare("ino_truncate_all",
            "UPDATE inodes SET size = 0, inline_data = NULL, mtime_ns = $2, ctime_ns = $2, "
            "version = version + 1 WHERE ino = $1");
  c.prepare("tok_insert",
            "INSERT INTO tokens (ino, client_id, mode, expires_at_ms) VALUES ($1, $2, $3, $4) "
            "RETURNING id");
  // A read-only open in one statement: inode $1's attributes, the id of a new token for
  // it, its inline bytes (NULL: none), whether it has chunks, and kRelaxColumn. No row:
  // no such inode. The token row is inserted only together with the inode's row read,
  // locked FOR KEY SHARE until the statement commits: a reclaim (which takes FOR UPDATE
  // before it looks for tokens) either waits and then sees this token, or deleted the
  // inode first and this finds no row. Commits and setattrs (FOR NO KEY UPDATE) do not
  // wait for it.
  c.prepare("open_read",
            "WITH i AS (SELECT " + cols + ", inline_data FROM inodes WHERE ino = $1 "
            "FOR KEY SHARE), "
            "k AS (INSERT INTO tokens (ino, client_id, mode, expires_at_ms) "
            "SELECT $1, $2, $3, $4 FROM i RETURNING id) "
            "SELECT i.*, k.id, EXISTS (SELECT 1 FROM chunks WHERE ino = $1), " +
                std::string(kRelaxColumn) + " FROM i, k");
  // A read-only open that needs no token when the file is inline: inode $1's attributes,
  // its inline bytes and whether it has chunks, read without a lock or a write. No row:
  // no such inode.
  c.prepare("open_peek",
            "SELECT " + cols + ", inline_data, EXISTS (SELECT 1 FROM chunks WHERE ino = $1) "
            "FROM inodes WHERE ino = $1");
  // create's common case in one statement: a new regular file named $8 in directory $6
  // (locked; it must be a live directory) with its entry, the touch of the directory and
  // a token, unless the name exists. Returns, per backend candidate (one row with NULL
  // candidate columns when there is none): the new inode, its group, the token id, the
  // directory's attributes after the touch, kRelaxColumn and the candidate. No row:
  // nothing was made (the transaction of create() then finds out why).
  c.prepare("create_new",
            fmt::format(
                "WITH p AS (SELECT mode, gid FROM inodes WHERE ino = $6::bigint "
                "AND type = {}::smallint AND nlink > 0 FOR UPDATE), "
                "old AS (SELECT ino FROM dentries WHERE parent = $6::bigint AND name = $8::bytea), "
                "i AS (INSERT INTO inodes (fsid, type, mode, uid, gid, nlink, size, rdev, "
                "atime_ns, mtime_ns, ctime_ns, version, parent) "
                "SELECT $1::uuid, $2::smallint, $3::integer, $4::bigint, "
                "CASE WHEN p.mode & 1024 <> 0 THEN p.gid ELSE $5::bigint END, 1, 0, 0, "
                "$7::bigint, $7, $7, 1, $6::bigint FROM p "
                "WHERE NOT EXISTS (SELECT 1 FROM old) RETURNING ino, gid), "
                "e AS (INSERT INTO dentries (parent, name, ino) SELECT $6, $8, ino FROM i), "
                "d AS (UPDATE inodes SET mtime_ns = $7, ctime_ns = $7, version = version + 1 "
                "WHERE ino = $6 AND EXISTS (SELECT 1 FROM i) RETURNING {}), "
                "k AS (INSERT INTO tokens (ino, client_id, mode, expires_at_ms) "
                "SELECT ino, $9, $10, $11 FROM i RETURNING id) "
                "SELECT i.ino, i.gid, k.id, d.*, {}, c.* FROM i CROSS JOIN k CROSS JOIN d "
                "LEFT JOIN ({}) c ON true",
                static_cast<int>(proto::FileType::DIRECTORY), cols, kRelaxColumn,
                kCandidatesQuery));
  // The same for a token that grants writing: the id on every row, followed by the
  // backend candidates (kCandidatesQuery; NULL columns when there is no backend).
  c.prepare("tok_insert_candidates",
            "WITH k AS (INSERT INTO tokens (ino, client_id, mode, expires_at_ms) "
            "VALUES ($1, $2, $3, $4) RETURNING id) "
            "SELECT k.id, c.* FROM k LEFT JOIN (" + std::string(kCandidatesQuery) +
                ") c ON true");
  // The released token's inode, locked, with its link count (no row: no such token) and
  // kRelaxColumn.
  c.prepare("tok_release",
            "WITH t AS (DELETE FROM tokens WHERE id = $1 RETURNING ino) "
            "SELECT i.ino, i.nlink, " + std::string(kRelaxColumn) +
                " FROM t JOIN inodes i ON i.ino = t.ino FOR UPDATE OF i");
  // tok_release for the tokens of the array $1: their inodes (each once, locked in the
  // order of their numbers, so two such releases cannot deadlock) with their link counts,
  // and kRelaxColumn. Unknown tokens give no row.
  c.prepare("tok_release_many",
            "WITH t AS (DELETE FROM tokens WHERE id = ANY($1::bigint[]) RETURNING ino) "
            "SELECT i.ino, i.nlink, " + std::string(kRelaxColumn) +
                " FROM inodes i WHERE i.ino IN (SELECT ino FROM t) ORDER BY i.ino FOR UPDATE OF i");
  // The renewed token's columns and its inode's fsid, then kRelaxColumn.
  c.prepare("tok_renew",
            "UPDATE tokens t SET expires_at_ms = $2 FROM inodes i "
            "WHERE t.id = $1 AND i.ino = t.ino RETURNING t.ino, t.client_id, t.mode, i.fsid, " +
                std::string(kRelaxColumn));
  c.prepare("tok_get", "SELECT ino, mode, expires_at_ms FROM tokens WHERE id = $1");
  // commitData's first statement: the inode $1, locked, with the columns of token $2 (NULL
  // when unknown).
  c.prepare("commit_start",
            "SELECT " + attr_columns("i.") + ", i.parent, t.ino, t.mode, t.expires_at_ms "
            "FROM inodes i LEFT JOIN tokens t ON t.id = $2 WHERE i.ino = $1 FOR UPDATE OF i");
  c.prepare("chunk_get", "SELECT uuid, version FROM chunks WHERE ino = $1 AND idx = $2 FOR UPDATE");
  c.prepare("chunk_insert",
            "INSERT INTO chunks (ino, idx, uuid, version, size, sha256) "
            "VALUES ($1, $2, $3, $4, $5, $6)");
  c.prepare("chunk_update",
            "UPDATE chunks SET version = $3, size = $4, sha256 = $5 WHERE ino = $1 AND idx = $2");
  c.prepare("chunk_delete", "DELETE FROM chunks WHERE ino = $1 AND idx = $2");
  c.prepare("copies_enqueue",
            "INSERT INTO deletions (backend_id, uuid, queued_at) "
            "SELECT backend_id, uuid, $2 FROM chunk_copies WHERE uuid = $1 ON CONFLICT DO NOTHING");
  c.prepare("copies_outdate",
            "UPDATE chunk_copies SET state = 1 WHERE uuid = $1 AND backend_id <> $2 AND state = 0");
  c.prepare("copy_current",
            "INSERT INTO chunk_copies (uuid, backend_id, state, version) VALUES ($1, $2, 0, $3) "
            "ON CONFLICT (uuid, backend_id) DO UPDATE SET state = 0, version = excluded.version");
  c.prepare("backend_exists", "SELECT 1 FROM backends WHERE id = $1");
  // The end of commitData, after the chunk updates (zhsm_commit_end, migration 006).
  // Returns the inode's attributes.
  c.prepare("ino_commit",
            "SELECT " + cols + " FROM zhsm_commit_end($1::bigint, $2::bigint, $3::bigint, "
            "$4::bigint, $5::bigint, $6::bigint, $7::bigint, $8::integer, $9::bytea, "
            "$10::bigint)");
  // A commitData without chunk updates, whole, with the attributes it sets
  // (zhsm_commit_small_with, migration 008): the status, then the inode's attributes after
  // it (NULL unless the status is 0).
  c.prepare("commit_small",
            "SELECT status, " + attr_columns("(attrs).") + " FROM zhsm_commit_small_with("
            "$1::bigint, $2::bigint, $3::bigint, $4::bigint, $5::bigint, $6::bigint, "
            "$7::bigint, $8::bigint, $9::integer, $10::bytea, $11::bigint, "
            "$12::boolean, $13::integer, $14::boolean, $15::bigint, $16::boolean, $17::bigint, "
            "$18::boolean, $19::bigint)");
  c.prepare("tok_expire",
            "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens WHERE expires_at_ms < $1 "
            "ORDER BY expires_at_ms LIMIT $2) RETURNING ino");
  c.prepare("orphans",
            "SELECT ino FROM inodes i WHERE nlink = 0 AND NOT EXISTS "
            "(SELECT 1 FROM tokens t WHERE t.ino = i.ino) ORDER BY ino LIMIT $1");
  c.prepare("tok_count", "SELECT count(*) FROM tokens");
}

OpenResult PgMetaStore::open(const OpenArgs& a) {
  check_access_mode(a.mode);
  if (!a.truncate && !grants_write(a.mode)) return open_to_read(a);
  return txn("open", [&](InodeTxn& t) {
    if (!a.truncate) t.relax_durability();  // only a token row is written
    InodeRow row = t.get(a.ino, grants_write(a.mode) || a.truncate);
    return open_inode(t, row, a.mode, a.truncate, a.client_id);
  });
}

// Without BEGIN and COMMIT: the statement open_read is its own transaction, so a read
// of a small file costs one round trip to PostgreSQL, or two with its chunk list. The
// chunks are read by a statement of their own, as in a transaction at READ COMMITTED.
// A connection lost after the statement committed runs it again on the new one: the
// first token then stays unused until it expires (token lifetime), which only delays
// reclaiming the file if it is unlinked meanwhile.
OpenResult PgMetaStore::open_to_read(const OpenArgs& a) {
  const int64_t now_ms = now_ns() / 1000000;
  if (wants_no_token(a)) {
    if (auto peeked = open_inline_without_token(a)) return std::move(*peeked);
  }
  return runner_.run<pqxx::nontransaction>("open", [&](pqxx::nontransaction& tx) {
    OpenResult out;
    out.token.expires_ms = static_cast<uint64_t>(now_ms + options_.token_lifetime_ms);
    auto r = tx.exec_prepared("open_read", static_cast<int64_t>(a.ino),
                              static_cast<int64_t>(a.client_id), static_cast<int>(a.mode),
                              static_cast<int64_t>(out.token.expires_ms));
    if (r.empty()) throw Error(Errc::not_found, fmt::format("inode {} does not exist", a.ino));
    out.attr = attr_from_row(r[0]);
    out.token.fsid = out.attr.fsid;
    out.token.ino = a.ino;
    out.token.mode = a.mode;
    out.token.client_id = a.client_id;
    out.token.token_id = r[0][kAttrColumnCount + 1].as<uint64_t>();
    if (out.attr.type != proto::FileType::REGULAR) return out;
    if (r[0][kAttrColumnCount + 2].as<bool>()) out.chunks = load_chunks(tx, a.ino);
    out.is_inline = out.chunks.empty() && out.attr.size <= settings_.inline_max;
    if (out.is_inline && out.attr.size > 0) {
      out.inline_data = bytes_of(r[0][kAttrColumnCount]);
      out.inline_data.resize(out.attr.size, '\0');
    }
    return out;
  });
}

// The answer to a read-only open of an inline file that asked for no token: one read,
// nothing written (no token row, so nothing to release, and nothing keeps the file if it
// is unlinked: the caller holds its bytes). nullopt when the file is not inline (a
// directory, chunks, or larger than inline_max): open_read then records a token as for
// any other open. An unlinked inode still has its row until reclaimed, as for open_read.
std::optional<OpenResult> PgMetaStore::open_inline_without_token(const OpenArgs& a) {
  return runner_.run<pqxx::nontransaction>(
      "open", [&](pqxx::nontransaction& tx) -> std::optional<OpenResult> {
        auto r = tx.exec_prepared("open_peek", static_cast<int64_t>(a.ino));
        if (r.empty()) throw Error(Errc::not_found, fmt::format("inode {} does not exist", a.ino));
        OpenResult out;
        out.attr = attr_from_row(r[0]);
        if (out.attr.type != proto::FileType::REGULAR || r[0][kAttrColumnCount + 1].as<bool>() ||
            out.attr.size > settings_.inline_max)
          return std::nullopt;
        out.token = TokenInfo{0, out.attr.fsid, a.ino, a.mode, 0, a.client_id};
        out.is_inline = true;
        if (out.attr.size > 0) {
          out.inline_data = bytes_of(r[0][kAttrColumnCount]);
          out.inline_data.resize(out.attr.size, '\0');
        }
        return out;
      });
}

// A new file, the common case of create, in one statement without BEGIN and COMMIT
// (create_new); nullopt when it made nothing: the directory is missing, not a directory or
// removed, the name exists, or a create of the same name committed while this one waited
// for the directory's lock (the unique entry refuses it). A lost connection is not
// retried: the statement may have committed (exec_change_once).
std::optional<OpenResult> PgMetaStore::create_new(const CreateArgs& a) {
  const int64_t now = now_ns();
  return runner_.run<pqxx::nontransaction>(
      "create", [&](pqxx::nontransaction& tx) -> std::optional<OpenResult> {
        OpenResult out;
        out.attr = new_inode_attr(proto::FileType::REGULAR, a.mode & 07777, a.caller.uid,
                                  a.caller.gid, 1, 0, {}, now);
        out.token.expires_ms = static_cast<uint64_t>(now / 1000000 + options_.token_lifetime_ms);
        pqxx::result r = exec_change_once(
            tx, "create", "create_new", uuid_param(out.attr.fsid),
            static_cast<int>(out.attr.type), static_cast<int64_t>(out.attr.mode),
            static_cast<int64_t>(a.caller.uid), static_cast<int64_t>(a.caller.gid),
            static_cast<int64_t>(a.parent), now, bytes_param(a.name),
            static_cast<int64_t>(a.client_id), static_cast<int>(a.access),
            static_cast<int64_t>(out.token.expires_ms));
        if (r.empty()) return std::nullopt;
        out.attr.ino = r[0][0].as<uint64_t>();
        out.attr.gid = r[0][1].as<uint32_t>();
        out.token.token_id = r[0][2].as<uint64_t>();
        out.token.fsid = out.attr.fsid;
        out.token.ino = out.attr.ino;
        out.token.mode = a.access;
        out.token.client_id = a.client_id;
        out.dirs = {attr_from_row(r[0], 3)};
        out.is_inline = true;  // new and empty
        if (grants_write(a.access))
          out.write_target = choose_write_target(candidates_from(r, 3 + kAttrColumnCount + 1),
                                                 now / 1000000, options_.heartbeat_timeout_ms);
        return out;
      });
}

OpenResult PgMetaStore::create(const CreateArgs& a) {
  check_name(a.name);
  check_access_mode(a.access);
  try {
    if (auto made = create_new(a)) return std::move(*made);
  } catch (const Error& e) {
    if (e.code() != Errc::exists) throw;  // the unique entry refused a racing create
  }
  return txn("create", [&](InodeTxn& t) {
    t.relax_durability();  // durable at the next sync (doc/durability.md)
    InodeRow parent = t.dir(a.parent, true, "parent directory");
    if (parent.attr.nlink == 0)
      throw Error(Errc::not_found, fmt::format("directory {} has been removed", a.parent));
    uint32_t gid = parent.attr.mode & 02000 ? parent.attr.gid : a.caller.gid;
    uint64_t existing = 0;
    if (auto row = t.insert_file(a.mode & 07777, a.caller.uid, gid, a.parent, a.name, existing)) {
      t.insert_file_touched(parent.attr);
      OpenResult out = open_inode(t, *row, a.access, false, a.client_id, /*is_new=*/true);
      out.dirs = t.touched_dirs();
      return out;
    }
    if (a.exclusive)
      throw Error(Errc::exists, fmt::format("create: '{}' in directory {} already exists",
                                            printable_name(a.name), a.parent));
    InodeRow row = t.get(existing, true);
    if (row.is_dir())
      throw Error(Errc::is_dir, fmt::format("create: '{}' in directory {} is a directory",
                                            printable_name(a.name), a.parent));
    return open_inode(t, row, a.access, a.truncate, a.client_id);
  });
}

OpenResult PgMetaStore::open_inode(InodeTxn& t, InodeRow row, proto::AccessMode mode,
                                   bool truncate, uint64_t client_id, bool is_new) {
  const uint64_t ino = row.attr.ino;
  if (row.is_dir() && (grants_write(mode) || truncate))
    throw Error(Errc::is_dir, fmt::format("open: inode {} is a directory ({} access)", ino,
                                          access_mode_name(mode)));
  if (truncate && row.attr.type == proto::FileType::REGULAR) {
    t.drop_chunks_from(ino, 0);
    t.tx().exec_prepared("ino_truncate_all", static_cast<int64_t>(ino), t.now_ns());
    row = t.get(ino, false);
  }
  OpenResult out;
  out.attr = row.attr;
  out.token.fsid = row.attr.fsid;
  out.token.ino = ino;
  out.token.mode = mode;
  out.token.client_id = client_id;
  out.token.expires_ms = static_cast<uint64_t>(t.now_ms() + options_.token_lifetime_ms);
  // A write token of a regular file comes with the backends its data could go to.
  const bool place = row.attr.type == proto::FileType::REGULAR && grants_write(mode);
  auto r = t.tx().exec_prepared(place ? "tok_insert_candidates" : "tok_insert",
                                static_cast<int64_t>(ino), static_cast<int64_t>(client_id),
                                static_cast<int>(mode), static_cast<int64_t>(out.token.expires_ms));
  out.token.token_id = r[0][0].as<uint64_t>();
  if (place)
    out.write_target = choose_write_target(candidates_from(r, 1), t.now_ms(),
                                           options_.heartbeat_timeout_ms);
  if (row.attr.type == proto::FileType::REGULAR) {
    // A file created by this transaction has no chunks; an empty one has no inline bytes.
    if (!is_new) out.chunks = load_chunks(t.tx(), ino);
    out.is_inline = out.chunks.empty() && row.attr.size <= settings_.inline_max;
    if (out.is_inline && row.attr.size > 0)
      out.inline_data = load_inline(t.tx(), ino, row.attr.size);
  }
  return out;
}

// One statement without BEGIN and COMMIT (it is its own transaction, durability
// relaxed); only a release that leaves an unlinked inode without tokens goes on to a
// transaction that reclaims it, under its own locks.
void PgMetaStore::release(uint64_t token_id) {
  struct Released {
    uint64_t ino = 0;
    int64_t nlink = 0;
  };
  auto released = runner_.run<pqxx::nontransaction>(
      "release", [&](pqxx::nontransaction& tx) -> std::optional<Released> {
        // lost: the token expires later, the orphan is reclaimed then
        auto r = tx.exec_prepared("tok_release", static_cast<int64_t>(token_id));
        if (r.empty()) return std::nullopt;  // an unknown token: nothing written
        return Released{r[0][0].as<uint64_t>(), r[0][1].as<int64_t>()};
      });
  if (!released || released->nlink > 0) return;  // still linked
  txn("release", [&](InodeTxn& t) {
    t.relax_durability();
    if (t.reclaim_if_unused(released->ino))
      spdlog::info("event=orphan_reclaimed ino={} token={}", released->ino, token_id);
  });
}

// As release(), for many tokens in one statement; each inode left unlinked and without
// tokens is then reclaimed in a transaction of its own.
void PgMetaStore::release_many(const std::vector<uint64_t>& token_ids) {
  if (token_ids.empty()) return;
  if (token_ids.size() == 1) return release(token_ids[0]);
  const std::string ids = bigint_array(token_ids);
  auto unlinked = runner_.run<pqxx::nontransaction>(
      "release", [&](pqxx::nontransaction& tx) {
        std::vector<uint64_t> out;
        for (const auto& row : tx.exec_prepared("tok_release_many", ids))
          if (row[1].as<int64_t>() == 0) out.push_back(row[0].as<uint64_t>());
        return out;
      });
  for (uint64_t ino : unlinked) {
    txn("release", [&](InodeTxn& t) {
      t.relax_durability();
      if (t.reclaim_if_unused(ino)) spdlog::info("event=orphan_reclaimed ino={}", ino);
    });
  }
}

TokenInfo PgMetaStore::renew_token(uint64_t token_id) {
  return txn("renewToken", [&](InodeTxn& t) {
    t.relax_durability();
    TokenInfo info;
    info.token_id = token_id;
    info.expires_ms = static_cast<uint64_t>(t.now_ms() + options_.token_lifetime_ms);
    auto r = t.tx().exec_prepared("tok_renew", static_cast<int64_t>(token_id),
                                  static_cast<int64_t>(info.expires_ms));
    if (r.empty())
      throw Error(Errc::bad_token,
                  fmt::format("token {} is unknown (released or expired)", token_id));
    t.mark_relaxed();
    info.ino = r[0][0].as<uint64_t>();
    info.client_id = r[0][1].as<uint64_t>();
    info.mode = static_cast<proto::AccessMode>(r[0][2].as<int>());
    info.fsid = uuid_of(r[0][3]);
    return info;
  });
}

InodeAttr PgMetaStore::commit_data(const CommitArgs& a) {
  check_commit(a, settings_);
  if (a.chunks.empty()) {
    if (auto attr = commit_small(a)) return *attr;
  }
  return txn("commitData", [&](InodeTxn& t) { return commit_in(t, a); });
}

namespace {

// The parameters of zhsm_commit_end that follow from a commit and the settings.
struct CommitEnd {
  int64_t keep;       // chunks kept: those holding bytes below the size; none when inline
  int64_t last_size;  // bytes of the last chunk kept
  int inline_action;  // 1 set the inline bytes, 2 drop them, 0 keep them
  std::string data;   // the inline bytes when set

  CommitEnd(const CommitArgs& a, const Settings& settings) {
    const uint64_t cs = settings.chunk_size;
    const uint64_t k = a.set_inline ? 0 : (a.size + cs - 1) / cs;
    keep = static_cast<int64_t>(k);
    last_size = static_cast<int64_t>(k == 0 ? 0 : a.size - (k - 1) * cs);
    inline_action = a.set_inline ? 1 : a.drop_inline ? 2 : 0;
    if (a.set_inline) data = a.inline_data.substr(0, a.size);
  }
};

}  // namespace

// A commit without chunk updates in one statement without BEGIN and COMMIT, its own
// synchronously committed transaction (zhsm_commit_small_with, which also sets the
// attributes that ride with it); nullopt when a check failed
// and nothing changed (the transaction then finds the error). Running it again after a
// lost connection sets the same values.
std::optional<InodeAttr> PgMetaStore::commit_small(const CommitArgs& a) {
  const int64_t now = now_ns();
  const CommitEnd end(a, settings_);
  const SetattrArgs then = a.then.value_or(SetattrArgs{});
  return runner_.run<pqxx::nontransaction>(
      "commitData", [&](pqxx::nontransaction& tx) -> std::optional<InodeAttr> {
        auto r = tx.exec_prepared(
            "commit_small", static_cast<int64_t>(a.ino), static_cast<int64_t>(a.token_id),
            static_cast<int64_t>(a.size), a.mtime_ns, now, end.keep, now / 1000000,
            end.last_size, end.inline_action, bytes_param(end.data),
            static_cast<int64_t>(settings_.inline_max), then.mode.has_value(),
            static_cast<int64_t>(then.mode.value_or(0)), then.uid.has_value(),
            static_cast<int64_t>(then.uid.value_or(0)), then.gid.has_value(),
            static_cast<int64_t>(then.gid.value_or(0)), then.atime_ns.has_value(),
            then.atime_ns.value_or(0));
        if (r[0][0].as<int>() != 0) return std::nullopt;
        return attr_from_row(r[0], 1);
      });
}

std::vector<CommitOutcome> PgMetaStore::commit_data_batch(
    const std::vector<const CommitArgs*>& batch) {
  if (batch.size() < 2) return MetaStore::commit_data_batch(batch);
  // One transaction, one log flush for all of them. Inodes are locked in ascending order
  // (commits of one inode keep their order), so two batches never wait on each other in a
  // cycle. When one of them fails, the transaction takes none, and each goes alone: the
  // others succeed and the failing one gets its own error.
  std::vector<size_t> order(batch.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return batch[x]->ino < batch[y]->ino; });
  try {
    for (const CommitArgs* a : batch) check_commit(*a, settings_);
    auto attrs = txn("commitData", [&](InodeTxn& t) {
      std::vector<InodeAttr> v(batch.size());
      for (size_t i : order) v[i] = commit_in(t, *batch[i]);
      return v;
    });
    std::vector<CommitOutcome> out(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) out[i].attr = std::move(attrs[i]);
    return out;
  } catch (const Error& e) {
    spdlog::debug("event=commit_batch_split size={} error=\"{}\"", batch.size(), e.what());
  }
  return MetaStore::commit_data_batch(batch);
}

InodeAttr PgMetaStore::commit_in(InodeTxn& t, const CommitArgs& a) {
  const auto ino = static_cast<int64_t>(a.ino);
  const auto token = static_cast<int64_t>(a.token_id);
  auto r = t.tx().exec_prepared("commit_start", ino, token);
  if (r.empty()) {
    // No such inode: the token's own error comes first when it has one.
    check_commit_token(a, t.tx().exec_prepared("tok_get", token), 0, t.now_ms());
    throw Error(Errc::not_found, fmt::format("inode {} does not exist", a.ino));
  }
  check_commit_token(a, r, kAttrColumnCount + 1, t.now_ms());
  if (attr_from_row(r[0]).type != proto::FileType::REGULAR)
    throw Error(Errc::invalid, fmt::format("commitData: inode {} is not a regular file", a.ino));
  if (a.then) set_attrs(t, *a.then);
  for (const auto& u : a.chunks) apply_chunk_update(t, a.ino, u);
  const CommitEnd end(a, settings_);
  auto c = t.tx().exec_prepared("ino_commit", ino, static_cast<int64_t>(a.size), a.mtime_ns,
                                t.now_ns(), end.keep, t.now_ms(), end.last_size,
                                end.inline_action, bytes_param(end.data),
                                static_cast<int64_t>(settings_.inline_max));
  return attr_from_row(c[0]);
}

void PgMetaStore::check_commit_token(const CommitArgs& a, const pqxx::result& r, int col,
                                     int64_t now_ms) {
  if (r.empty() || r[0][col].is_null())
    throw Error(Errc::bad_token, fmt::format("commitData: token {} is unknown", a.token_id));
  if (r[0][col].as<uint64_t>() != a.ino)
    throw Error(Errc::bad_token,
                fmt::format("commitData: token {} is not for inode {}", a.token_id, a.ino));
  if (!grants_write(static_cast<proto::AccessMode>(r[0][col + 1].as<int>())))
    throw Error(Errc::bad_token,
                fmt::format("commitData: token {} does not grant writing", a.token_id));
  if (r[0][col + 2].as<int64_t>() < now_ms)
    throw Error(Errc::token_expired, fmt::format("commitData: token {} expired", a.token_id));
}

void PgMetaStore::apply_chunk_update(InodeTxn& t, uint64_t ino, const ChunkUpdateArgs& u) {
  auto& tx = t.tx();
  const auto key = static_cast<int64_t>(ino);
  const auto idx = static_cast<int64_t>(u.index);
  const auto version = static_cast<int64_t>(u.version);
  if (tx.exec_prepared("backend_exists", uuid_param(u.backend)).empty())
    throw Error(Errc::invalid, fmt::format("commitData: chunk {} names unknown backend {}",
                                           u.index, u.backend.str()));
  auto cur = tx.exec_prepared("chunk_get", key, idx);
  if (!cur.empty() && uuid_of(cur[0][0]) == u.uuid) {
    if (cur[0][1].as<int64_t>() >= version) return;  // versions only move forward
    tx.exec_prepared("chunk_update", key, idx, version, static_cast<int64_t>(u.size),
                     bytes_param(u.sha256));
    tx.exec_prepared("copies_outdate", uuid_param(u.uuid), uuid_param(u.backend));
    tx.exec_prepared("copy_current", uuid_param(u.uuid), uuid_param(u.backend), version);
    return;
  }
  if (!cur.empty()) {  // a new object replaces the old one: its copies go
    std::string old = cur[0][0].c_str();
    tx.exec_prepared("copies_enqueue", old, t.now_ms());
    tx.exec_prepared("chunk_delete", key, idx);
    spdlog::debug("event=chunk_replaced ino={} index={} old={} new={}", ino, u.index, old,
                  u.uuid.str());
  }
  tx.exec_prepared("chunk_insert", key, idx, uuid_param(u.uuid), version,
                   static_cast<int64_t>(u.size), bytes_param(u.sha256));
  tx.exec_prepared("copy_current", uuid_param(u.uuid), uuid_param(u.backend), version);
}

SweepResult PgMetaStore::sweep() {
  return txn("sweep", [&](InodeTxn& t) {
    SweepResult out;
    std::vector<uint64_t> inos;
    for (const auto& r : t.tx().exec_prepared("tok_expire", t.now_ms(), static_cast<int64_t>(kSweepBatch))) {
      inos.push_back(r[0].as<uint64_t>());
      ++out.expired_tokens;
    }
    for (const auto& r : t.tx().exec_prepared("orphans", static_cast<int64_t>(kSweepBatch)))
      inos.push_back(r[0].as<uint64_t>());
    std::sort(inos.begin(), inos.end());
    inos.erase(std::unique(inos.begin(), inos.end()), inos.end());
    for (uint64_t ino : inos) {
      if (t.reclaim_if_unused(ino)) {
        ++out.reclaimed;
        spdlog::info("event=orphan_reclaimed ino={} reason=sweep", ino);
      }
    }
    out.open_tokens = t.tx().exec_prepared("tok_count")[0][0].as<uint64_t>();
    return out;
  });
}

}  // namespace zhsm
