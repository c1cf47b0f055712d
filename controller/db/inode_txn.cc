// Statements and logic of the per-transaction inode building blocks (see inode_txn.h).
#include "controller/db/inode_txn.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "controller/db/pg_rows.h"
#include "controller/meta_checks.h"
#include "controller/names.h"

namespace zhsm {

void prepare_inode_statements(pqxx::connection& c) {
  const std::string cols = attr_columns();
  c.prepare("ino_get", "SELECT " + cols + ", parent FROM inodes WHERE ino = $1");
  c.prepare("ino_get_lock", "SELECT " + cols + ", parent FROM inodes WHERE ino = $1 FOR UPDATE");
  // The same with kRelaxColumn (InodeTxn::relax_durability) as the last column.
  const std::string relax(kRelaxColumn);
  c.prepare("ino_get_relax",
            "SELECT " + cols + ", parent, " + relax + " FROM inodes WHERE ino = $1");
  c.prepare("ino_get_lock_relax",
            "SELECT " + cols + ", parent, " + relax + " FROM inodes WHERE ino = $1 FOR UPDATE");
  c.prepare("dent_get", "SELECT ino FROM dentries WHERE parent = $1 AND name = $2");
  // A new regular file named $8 in directory $6 (locked by the caller), its entry and the
  // touch of the directory, unless the name exists. Returns (ino, created): the new inode
  // or the one the name already names.
  c.prepare("ino_insert_file",
            "WITH old AS (SELECT ino FROM dentries "
            "WHERE parent = $6::bigint AND name = $8::bytea), "
            "i AS (INSERT INTO inodes (fsid, type, mode, uid, gid, nlink, size, rdev, "
            "atime_ns, mtime_ns, ctime_ns, version, parent) "
            "SELECT $1::uuid, $2::smallint, $3::integer, $4::bigint, $5::bigint, 1, 0, 0, "
            "$7::bigint, $7, $7, 1, $6::bigint "
            "WHERE NOT EXISTS (SELECT 1 FROM old) RETURNING ino), "
            "e AS (INSERT INTO dentries (parent, name, ino) SELECT $6, $8, ino FROM i), "
            "d AS (UPDATE inodes SET mtime_ns = $7, ctime_ns = $7, version = version + 1 "
            "WHERE ino = $6 AND EXISTS (SELECT 1 FROM i)) "
            "SELECT ino, true FROM i UNION ALL SELECT ino, false FROM old");
  c.prepare("dent_insert", "INSERT INTO dentries (parent, name, ino) VALUES ($1, $2, $3)");
  c.prepare("dent_delete", "DELETE FROM dentries WHERE parent = $1 AND name = $2");
  c.prepare("dir_touch",
            "UPDATE inodes SET mtime_ns = $2, ctime_ns = $2, nlink = nlink + $3, "
            "version = version + 1 WHERE ino = $1 RETURNING " + cols);
  c.prepare("ino_touch",
            "UPDATE inodes SET ctime_ns = $2, nlink = nlink + $3, version = version + 1 "
            "WHERE ino = $1 RETURNING nlink");
  c.prepare("dir_unlinked",
            "UPDATE inodes SET ctime_ns = $2, nlink = 0, version = version + 1 WHERE ino = $1");
  // Locks the inode, then reclaims it when it has no link and no token (migration 006).
  c.prepare("ino_reclaim", "SELECT zhsm_reclaim_if_unused($1::bigint, $2::bigint)");
  c.prepare("chunks_enqueue_from",
            "INSERT INTO deletions (backend_id, uuid, queued_at) "
            "SELECT c.backend_id, c.uuid, $3 FROM chunks k JOIN chunk_copies c ON c.uuid = k.uuid "
            "WHERE k.ino = $1 AND k.idx >= $2 ON CONFLICT DO NOTHING");
  c.prepare("chunks_delete_from", "DELETE FROM chunks WHERE ino = $1 AND idx >= $2");
  c.prepare("chunk_clip",
            "UPDATE chunks SET size = $3, sha256 = ''::bytea WHERE ino = $1 AND idx = $2 "
            "AND size > $3");
  c.prepare("chunks_any", "SELECT 1 FROM chunks WHERE ino = $1 LIMIT 1");
}

std::optional<InodeRow> InodeTxn::find(uint64_t ino, bool lock) {
  const char* stmt = relax_pending_ ? (lock ? "ino_get_lock_relax" : "ino_get_relax")
                                    : (lock ? "ino_get_lock" : "ino_get");
  auto r = tx_.exec_prepared(stmt, static_cast<int64_t>(ino));
  if (r.empty()) return std::nullopt;
  relax_pending_ = false;  // the row carried kRelaxColumn, if asked
  InodeRow row;
  row.attr = attr_from_row(r[0]);
  row.parent = r[0][kAttrColumnCount].as<uint64_t>();
  return row;
}

InodeRow InodeTxn::get(uint64_t ino, bool lock, std::string_view what) {
  auto row = find(ino, lock);
  if (!row) throw Error(Errc::not_found, fmt::format("{} {} does not exist", what, ino));
  return *row;
}

InodeRow InodeTxn::dir(uint64_t ino, bool lock, std::string_view what) {
  auto row = get(ino, lock, what);
  if (!row.is_dir())
    throw Error(Errc::not_dir, fmt::format("{} {} is not a directory", what, ino));
  return row;
}

std::optional<uint64_t> InodeTxn::entry(uint64_t parent, std::string_view name) {
  auto r = tx_.exec_prepared("dent_get", static_cast<int64_t>(parent), bytes_param(name));
  if (r.empty()) return std::nullopt;
  return r[0][0].as<uint64_t>();
}

std::optional<InodeRow> InodeTxn::insert_file(uint32_t mode, uint32_t uid, uint32_t gid,
                                              uint64_t parent, std::string_view name,
                                              uint64_t& existing) {
  InodeRow row{new_inode_attr(proto::FileType::REGULAR, mode, uid, gid, 1, 0, {}, now_ns_),
               parent};
  auto& a = row.attr;
  auto r = tx_.exec_prepared("ino_insert_file", uuid_param(a.fsid), static_cast<int>(a.type),
                             static_cast<int64_t>(a.mode), static_cast<int64_t>(uid),
                             static_cast<int64_t>(gid), static_cast<int64_t>(parent), now_ns_,
                             bytes_param(name));
  if (!r[0][1].as<bool>()) {
    existing = r[0][0].as<uint64_t>();
    return std::nullopt;
  }
  a.ino = r[0][0].as<uint64_t>();
  return row;
}

void InodeTxn::insert_file_touched(InodeAttr parent) {
  parent.mtime_ns = parent.ctime_ns = now_ns_;  // what ino_insert_file's `d` wrote
  ++parent.version;
  note_touched(parent);
}

void InodeTxn::add_entry(uint64_t parent, std::string_view name, uint64_t ino) {
  tx_.exec_prepared("dent_insert", static_cast<int64_t>(parent), bytes_param(name),
                    static_cast<int64_t>(ino));
}

void InodeTxn::remove_entry(uint64_t parent, std::string_view name) {
  tx_.exec_prepared("dent_delete", static_cast<int64_t>(parent), bytes_param(name));
}

void InodeTxn::touch_dir(uint64_t ino, int nlink_delta) {
  auto r = tx_.exec_prepared("dir_touch", static_cast<int64_t>(ino), now_ns_, nlink_delta);
  if (!r.empty()) note_touched(attr_from_row(r[0]));
}

void InodeTxn::note_touched(const InodeAttr& dir) {
  for (auto& d : touched_dirs_)
    if (d.ino == dir.ino) {
      d = dir;
      return;
    }
  touched_dirs_.push_back(dir);
}

int64_t InodeTxn::touch_inode(uint64_t ino, int nlink_delta) {
  auto r = tx_.exec_prepared("ino_touch", static_cast<int64_t>(ino), now_ns_, nlink_delta);
  if (r.empty()) throw Error(Errc::not_found, fmt::format("inode {} does not exist", ino));
  return r[0][0].as<int64_t>();
}

void InodeTxn::drop_link(uint64_t ino, bool whole_dir) {
  int64_t nlink;
  if (whole_dir) {
    tx_.exec_prepared("dir_unlinked", static_cast<int64_t>(ino), now_ns_);
    nlink = 0;
  } else {
    nlink = touch_inode(ino, -1);
  }
  if (nlink <= 0) reclaim_if_unused(ino);
}

void InodeTxn::before_commit() {
  if (!relax_pending_) return;
  tx_.exec0("SET LOCAL synchronous_commit TO OFF");
  relax_pending_ = false;
}

bool InodeTxn::has_chunks(uint64_t ino) {
  return !tx_.exec_prepared("chunks_any", static_cast<int64_t>(ino)).empty();
}

bool InodeTxn::reclaim_if_unused(uint64_t ino) {
  auto r = tx_.exec_prepared("ino_reclaim", static_cast<int64_t>(ino), now_ms());
  const bool reclaimed = r[0][0].as<bool>();
  if (reclaimed) spdlog::debug("event=inode_reclaimed ino={}", ino);
  return reclaimed;
}

void InodeTxn::drop_chunks_from(uint64_t ino, uint64_t first_index) {
  tx_.exec_prepared("chunks_enqueue_from", static_cast<int64_t>(ino),
                    static_cast<int64_t>(first_index), now_ms());
  tx_.exec_prepared("chunks_delete_from", static_cast<int64_t>(ino),
                    static_cast<int64_t>(first_index));
}

void InodeTxn::fit_chunks(uint64_t ino, uint64_t size) {
  const uint64_t cs = settings_.chunk_size;
  if (size == 0) {
    drop_chunks_from(ino, 0);
    return;
  }
  uint64_t last = (size - 1) / cs;
  drop_chunks_from(ino, last + 1);
  tx_.exec_prepared("chunk_clip", static_cast<int64_t>(ino), static_cast<int64_t>(last),
                    static_cast<int64_t>(size - last * cs));
}

}  // namespace zhsm
