// Namespace operations of PgMetaStore: lookup, getattr, creating nodes (mknod, mkdir,
// symlink), link, unlink, rmdir, readlink and paged readdir. POSIX semantics as a local
// filesystem would give them; permissions were checked by the kernel.
#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_rows.h"
#include "controller/meta_checks.h"
#include "controller/names.h"

namespace zhsm {
namespace {

// A directory that was removed while a token kept it: nothing may be created in it.
void check_live_dir(const InodeRow& dir) {
  if (dir.attr.nlink == 0)
    throw Error(Errc::not_found, fmt::format("directory {} has been removed", dir.attr.ino));
}

// The statuses of the functions of schema/006_namespace_functions.sql.
enum FnStatus {
  kDone = 0,
  kDirMissing = 1,
  kNotDir = 2,
  kDirRemoved = 3,
  kNoEntry = 4,
  kEntryExists = 5,
  kVictimIsDir = 6,
  kVictimNotDir = 7,
  kNotEmpty = 8,
  kRoot = 9,
  kInodeMissing = 10,
};

// The error of a status that says the directory `dir` cannot take the change.
void check_dir_status(int status, uint64_t dir) {
  if (status == kDirMissing)
    throw Error(Errc::not_found, fmt::format("parent directory {} does not exist", dir));
  if (status == kNotDir)
    throw Error(Errc::not_dir, fmt::format("parent directory {} is not a directory", dir));
  if (status == kDirRemoved)
    throw Error(Errc::not_found, fmt::format("directory {} has been removed", dir));
}

}  // namespace

void prepare_namespace_statements(pqxx::connection& c) {
  // The functions of schema/006_namespace_functions.sql, each a whole transaction. The
  // directory's row after the change follows the first columns (NULL unless status 0).
  const std::string dir_cols = attr_columns("(dir).");
  c.prepare("node_make",
            "SELECT status, new_ino, new_mode, new_gid, " + dir_cols +
                " FROM zhsm_make_node($1::bigint, $2::bytea, $3::uuid, $4::smallint, "
                "$5::integer, $6::bigint, $7::bigint, $8::bigint, $9::bigint, "
                "CASE WHEN $4::smallint = " +
                std::to_string(static_cast<int>(proto::FileType::SYMLINK)) +
                " THEN $10::bytea END, $11::bigint)");
  c.prepare("node_remove", "SELECT status, victim, " + dir_cols +
                               " FROM zhsm_remove($1::bigint, $2::bytea, $3::boolean, $4::bigint)");
  c.prepare("dir_has_entries", "SELECT 1 FROM dentries WHERE parent = $1 LIMIT 1");
  c.prepare("ino_symlink", "SELECT type, symlink FROM inodes WHERE ino = $1");
  // One query per page: the directory's own row (type, parent; no row: no such
  // inode) with up to $3 entries after cookie $2, found by keyset on the unique index
  // (parent, cookie) and never by OFFSET, so a page costs the same at any depth of a
  // large directory. An empty directory or page gives one row with NULL entry columns.
  c.prepare("readdir_page",
            "SELECT p.type, p.parent, e.* FROM inodes p LEFT JOIN LATERAL "
            "(SELECT d.name, d.cookie, " + attr_columns("i.") +
                " FROM dentries d JOIN inodes i ON i.ino = d.ino "
                "WHERE d.parent = p.ino AND d.cookie > $2 ORDER BY d.cookie LIMIT $3) e ON true "
                "WHERE p.ino = $1 ORDER BY e.cookie");
}

InodeAttr PgMetaStore::lookup(uint64_t parent, std::string_view name) {
  check_name(name);
  return txn("lookup", [&](InodeTxn& t) {
    t.dir(parent, false, "parent directory");
    auto ino = t.entry(parent, name);
    if (!ino) throw no_entry(parent, name);
    return t.get(*ino, false).attr;
  });
}

InodeAttr PgMetaStore::getattr(uint64_t ino) {
  return read_one("getattr", [&](pqxx::nontransaction& tx) {
    auto r = tx.exec_prepared("ino_get", static_cast<int64_t>(ino));
    if (r.empty()) throw Error(Errc::not_found, fmt::format("inode {} does not exist", ino));
    return attr_from_row(r[0]);
  });
}

NodeResult PgMetaStore::mknod(const NodeArgs& args) {
  check_mknod_type(args.type);
  return make_node(args, "mknod");
}

NodeResult PgMetaStore::mkdir(const NodeArgs& args) {
  return make_node(directory_node(args), "mkdir");
}

NodeResult PgMetaStore::symlink(const NodeArgs& args) {
  return make_node(symlink_node(args), "symlink");
}

// One statement without BEGIN and COMMIT: zhsm_make_node is the whole transaction. A lost
// connection is not retried (exec_change_once).
NodeResult PgMetaStore::make_node(const NodeArgs& args, std::string_view op) {
  check_name(args.name);
  const int64_t now = now_ns();
  return runner_.run<pqxx::nontransaction>(op, [&](pqxx::nontransaction& tx) {
    const bool is_dir = args.type == proto::FileType::DIRECTORY;
    NodeResult out;
    static_cast<InodeAttr&>(out) =
        new_inode_attr(args.type, args.mode & 07777, args.caller.uid, args.caller.gid,
                       is_dir ? 2 : 1, args.rdev, args.symlink_target, now);
    auto r = exec_change_once(
        tx, op, "node_make", static_cast<int64_t>(args.parent), bytes_param(args.name),
        uuid_param(out.fsid), static_cast<int>(args.type), static_cast<int64_t>(out.mode),
        static_cast<int64_t>(args.caller.uid), static_cast<int64_t>(args.caller.gid),
        static_cast<int64_t>(out.size), static_cast<int64_t>(args.rdev),
        bytes_param(args.symlink_target), now);
    const int status = r[0][0].as<int>();
    check_dir_status(status, args.parent);
    if (status == kEntryExists)
      throw Error(Errc::exists,
                  fmt::format("{}: {} already exists", op, entry_text(args.parent, args.name)));
    if (status != kDone)
      throw Error(Errc::internal, fmt::format("{}: unexpected status {}", op, status));
    out.ino = r[0][1].as<uint64_t>();
    out.mode = r[0][2].as<uint32_t>();
    out.gid = static_cast<uint32_t>(r[0][3].as<int64_t>());
    out.dirs = {attr_from_row(r[0], 4)};
    return out;
  });
}

NodeResult PgMetaStore::link(uint64_t ino, uint64_t new_parent, std::string_view new_name) {
  check_name(new_name);
  return txn("link", [&](InodeTxn& t) {
    t.relax_durability();  // durable at the next sync (doc/durability.md)
    InodeRow parent = t.dir(new_parent, true, "parent directory");
    check_live_dir(parent);
    InodeRow target = t.get(ino, true);
    if (target.is_dir())
      throw Error(Errc::not_permitted, fmt::format("link: inode {} is a directory", ino));
    if (target.attr.nlink == 0)
      throw Error(Errc::not_found, fmt::format("link: inode {} has been unlinked", ino));
    if (target.attr.nlink >= kMaxLinks)
      throw Error(Errc::too_many_links,
                  fmt::format("link: inode {} already has {} links", ino, target.attr.nlink));
    if (t.entry(new_parent, new_name))
      throw Error(Errc::exists,
                  fmt::format("link: {} already exists", entry_text(new_parent, new_name)));
    t.add_entry(new_parent, new_name, ino);
    t.touch_inode(ino, 1);
    t.touch_dir(new_parent, 0);
    return NodeResult{t.get(ino, false).attr, t.touched_dirs()};
  });
}

RemoveResult PgMetaStore::unlink(uint64_t parent, std::string_view name) {
  return remove(parent, name, false);
}

RemoveResult PgMetaStore::rmdir(uint64_t parent, std::string_view name) {
  return remove(parent, name, true);
}

// One statement without BEGIN and COMMIT: zhsm_remove is the whole transaction. A lost
// connection is not retried (exec_change_once).
RemoveResult PgMetaStore::remove(uint64_t parent, std::string_view name, bool dir_only) {
  check_name(name);
  const std::string_view op = dir_only ? "rmdir" : "unlink";
  const int64_t now = now_ns();
  return runner_.run<pqxx::nontransaction>(op, [&](pqxx::nontransaction& tx) {
    auto r = exec_change_once(tx, op, "node_remove", static_cast<int64_t>(parent),
                              bytes_param(name), dir_only, now);
    const int status = r[0][0].as<int>();
    check_dir_status(status, parent);
    const std::string entry = entry_text(parent, name);
    switch (status) {
      case kDone:
        return RemoveResult{r[0][1].as<uint64_t>(), {attr_from_row(r[0], 2)}};
      case kNoEntry:
        throw Error(Errc::not_found, fmt::format("{}: no entry {}", op, entry));
      case kVictimIsDir:
        throw Error(Errc::is_dir, fmt::format("unlink: {} is a directory", entry));
      case kVictimNotDir:
        throw Error(Errc::not_dir, fmt::format("rmdir: {} is not a directory", entry));
      case kNotEmpty:
        throw Error(Errc::not_empty, fmt::format("rmdir: {} is not empty", entry));
      case kRoot:
        throw Error(Errc::busy, "rmdir: cannot remove the root directory");
      case kInodeMissing:
        throw Error(Errc::not_found,
                    fmt::format("inode {} of {} does not exist", r[0][1].as<uint64_t>(), entry));
      default:
        throw Error(Errc::internal, fmt::format("{}: unexpected status {}", op, status));
    }
  });
}

std::string PgMetaStore::readlink(uint64_t ino) {
  return txn("readlink", [&](InodeTxn& t) {
    auto r = t.tx().exec_prepared("ino_symlink", static_cast<int64_t>(ino));
    if (r.empty()) throw Error(Errc::not_found, fmt::format("inode {} does not exist", ino));
    if (r[0][0].as<int>() != static_cast<int>(proto::FileType::SYMLINK))
      throw Error(Errc::invalid, fmt::format("readlink: inode {} is not a symlink", ino));
    return bytes_of(r[0][1]);
  });
}

DirPage PgMetaStore::readdir(uint64_t ino, uint64_t after, uint32_t max_entries) {
  uint32_t limit = std::clamp<uint32_t>(max_entries, 1, kMaxReaddirEntries);
  return txn("readdir", [&](InodeTxn& t) {
    // One more than asked: whether more follow decides eof.
    auto r = t.tx().exec_prepared("readdir_page", static_cast<int64_t>(ino),
                                  static_cast<int64_t>(after), static_cast<int64_t>(limit) + 1);
    if (r.empty()) throw Error(Errc::not_found, fmt::format("directory {} does not exist", ino));
    if (r[0][0].as<int>() != static_cast<int>(proto::FileType::DIRECTORY))
      throw Error(Errc::not_dir, fmt::format("directory {} is not a directory", ino));
    DirPage page;
    page.parent_ino = r[0][1].as<uint64_t>();
    size_t rows = 0;
    for (const auto& row : r) {
      if (row[2].is_null()) break;  // no entries at all
      ++rows;
      if (page.entries.size() == limit) continue;
      DirEntryInfo e;
      e.name = bytes_of(row[2]);
      e.cookie = row[3].as<uint64_t>();
      e.attr = attr_from_row(row, 4);
      page.entries.push_back(std::move(e));
    }
    page.eof = rows <= limit;
    return page;
  });
}

}  // namespace zhsm
