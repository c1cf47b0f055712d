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

}  // namespace

void prepare_namespace_statements(pqxx::connection& c) {
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

NodeResult PgMetaStore::make_node(const NodeArgs& args, std::string_view op) {
  check_name(args.name);
  return txn(op, [&](InodeTxn& t) {
    t.relax_durability();  // durable at the next sync (doc/durability.md)
    InodeRow parent = t.dir(args.parent, true, "parent directory");
    check_live_dir(parent);
    if (t.entry(args.parent, args.name))
      throw Error(Errc::exists, fmt::format("{}: {} already exists", op,
                                            entry_text(args.parent, args.name)));
    const bool is_dir = args.type == proto::FileType::DIRECTORY;
    uint32_t mode = args.mode & 07777;
    uint32_t gid = args.caller.gid;
    if (parent.attr.mode & 02000) {  // setgid directory: group (and setgid for dirs) inherited
      gid = parent.attr.gid;
      if (is_dir) mode |= 02000;
    }
    InodeRow row = t.insert_inode(args.type, mode, args.caller.uid, gid, is_dir ? 2 : 1,
                                  args.rdev, args.parent, args.symlink_target);
    t.add_entry(args.parent, args.name, row.attr.ino);
    t.touch_dir(args.parent, is_dir ? 1 : 0);
    return NodeResult{row.attr, t.touched_dirs()};
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
  check_name(name);
  return txn("unlink", [&](InodeTxn& t) {
    t.relax_durability();  // durable at the next sync (doc/durability.md)
    t.dir(parent, true, "parent directory");
    auto ino = t.entry(parent, name);
    if (!ino) throw Error(Errc::not_found, "unlink: no entry " + entry_text(parent, name));
    InodeRow victim = t.get(*ino, true);
    if (victim.is_dir())
      throw Error(Errc::is_dir, "unlink: " + entry_text(parent, name) + " is a directory");
    t.remove_entry(parent, name);
    t.touch_dir(parent, 0);
    t.drop_link(*ino, false);
    return RemoveResult{*ino, t.touched_dirs()};
  });
}

RemoveResult PgMetaStore::rmdir(uint64_t parent, std::string_view name) {
  check_name(name);
  return txn("rmdir", [&](InodeTxn& t) {
    t.relax_durability();  // durable at the next sync (doc/durability.md)
    t.dir(parent, true, "parent directory");
    auto ino = t.entry(parent, name);
    if (!ino) throw Error(Errc::not_found, "rmdir: no entry " + entry_text(parent, name));
    if (*ino == 1) throw Error(Errc::busy, "rmdir: cannot remove the root directory");
    InodeRow victim = t.get(*ino, true);
    if (!victim.is_dir())
      throw Error(Errc::not_dir, "rmdir: " + entry_text(parent, name) + " is not a directory");
    if (!t.tx().exec_prepared("dir_has_entries", static_cast<int64_t>(*ino)).empty())
      throw Error(Errc::not_empty, "rmdir: " + entry_text(parent, name) + " is not empty");
    t.remove_entry(parent, name);
    t.touch_dir(parent, -1);
    t.drop_link(*ino, true);
    return RemoveResult{*ino, t.touched_dirs()};
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
