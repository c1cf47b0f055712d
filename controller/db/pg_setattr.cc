// Attribute changes for PgMetaStore: setattr (mode, owner, times, size with truncation
// or extension of inline data and chunks) and extended attributes.
#include <fmt/format.h>

#include "common/error.h"
#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_rows.h"
#include "controller/meta_checks.h"
#include "controller/names.h"

namespace zhsm {

void prepare_setattr_statements(pqxx::connection& c) {
  // $2..$7 values with $8..$13 saying which apply; $14 ctime; $15 inline_max.
  const std::string set =
      "UPDATE inodes SET "
      "mode = CASE WHEN $8 THEN $2 ELSE mode END, "
      "uid = CASE WHEN $9 THEN $3 ELSE uid END, "
      "gid = CASE WHEN $10 THEN $4 ELSE gid END, "
      "atime_ns = CASE WHEN $11 THEN $5 ELSE atime_ns END, "
      "mtime_ns = CASE WHEN $12 THEN $6 ELSE mtime_ns END, "
      "size = CASE WHEN $13 THEN $7 ELSE size END, "
      "inline_data = CASE WHEN NOT $13 THEN inline_data "
      "  WHEN $7 > $15 THEN NULL "
      "  ELSE substring(inline_data FROM 1 FOR $7::integer) END, "
      "ctime_ns = $14, version = version + 1 "
      "WHERE ino = $1 RETURNING " + attr_columns();
  c.prepare("ino_setattr", set);
  // The same as a statement of its own (setattr without a size), with kRelaxColumn.
  c.prepare("ino_setattr_alone", set + ", " + std::string(kRelaxColumn));
  c.prepare("xattr_insert",
            "INSERT INTO xattrs (ino, name, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING "
            "RETURNING 1");
  c.prepare("xattr_replace",
            "UPDATE xattrs SET value = $3 WHERE ino = $1 AND name = $2 RETURNING 1");
  c.prepare("xattr_upsert",
            "INSERT INTO xattrs (ino, name, value) VALUES ($1, $2, $3) "
            "ON CONFLICT (ino, name) DO UPDATE SET value = excluded.value");
  // The attribute's value (NULL: the inode has no such attribute; no row: no such inode).
  c.prepare("xattr_get",
            "SELECT x.value FROM inodes i LEFT JOIN xattrs x ON x.ino = i.ino AND x.name = $2 "
            "WHERE i.ino = $1");
  c.prepare("xattr_list", "SELECT name FROM xattrs WHERE ino = $1 ORDER BY name");
  c.prepare("xattr_remove", "DELETE FROM xattrs WHERE ino = $1 AND name = $2 RETURNING 1");
}

namespace {

// Runs ino_setattr or ino_setattr_alone for `a` with its times resolved against `now`
// (`mtime` may differ from a's: a size change moves it).
pqxx::result exec_setattr(pqxx::transaction_base& tx, const char* statement,
                          const SetattrArgs& a, std::optional<int64_t> atime,
                          std::optional<int64_t> mtime, int64_t now, uint64_t inline_max) {
  return tx.exec_prepared(
      statement, static_cast<int64_t>(a.ino), static_cast<int64_t>(a.mode.value_or(0)),
      static_cast<int64_t>(a.uid.value_or(0)), static_cast<int64_t>(a.gid.value_or(0)),
      atime.value_or(0), mtime.value_or(0), static_cast<int64_t>(a.size.value_or(0)),
      a.mode.has_value(), a.uid.has_value(), a.gid.has_value(), atime.has_value(),
      mtime.has_value(), a.size.has_value(), now, static_cast<int64_t>(inline_max));
}

std::optional<int64_t> resolved(std::optional<int64_t> t, bool now_asked, int64_t now) {
  return now_asked ? std::optional<int64_t>(now) : t;
}

}  // namespace

InodeAttr PgMetaStore::setattr(const SetattrArgs& a) {
  if (!a.size) {
    // chmod, chown, utimens: nothing to check against the inode, nothing to drop, so one
    // statement, its own transaction (no BEGIN, no COMMIT); running it again after a lost
    // connection sets the same values.
    check_setattr(a, InodeAttr{});
    const int64_t now = now_ns();
    return runner_.run<pqxx::nontransaction>("setattr", [&](pqxx::nontransaction& tx) {
      auto r = exec_setattr(tx, "ino_setattr_alone", a, resolved(a.atime_ns, a.atime_now, now),
                            resolved(a.mtime_ns, a.mtime_now, now), now, settings_.inline_max);
      if (r.empty()) throw Error(Errc::not_found, fmt::format("inode {} does not exist", a.ino));
      return attr_from_row(r[0]);
    });
  }
  return txn("setattr", [&](InodeTxn& t) {
    t.relax_durability();  // durable at the next sync (doc/durability.md)
    InodeRow row = t.get(a.ino, true);
    check_setattr(a, row.attr);
    const int64_t now = t.now_ns();
    std::optional<int64_t> mtime = resolved(a.mtime_ns, a.mtime_now, now);
    // A size change is a content change: mtime follows unless the caller set it.
    if (a.size && *a.size != row.attr.size && !mtime) mtime = now;
    if (a.size) t.fit_chunks(a.ino, *a.size);
    auto r = exec_setattr(t.tx(), "ino_setattr", a, resolved(a.atime_ns, a.atime_now, now), mtime,
                          now, settings_.inline_max);
    return attr_from_row(r[0]);
  });
}

void PgMetaStore::set_attrs(InodeTxn& t, const SetattrArgs& a) {
  const int64_t now = t.now_ns();
  exec_setattr(t.tx(), "ino_setattr", a, resolved(a.atime_ns, a.atime_now, now),
               resolved(a.mtime_ns, a.mtime_now, now), now, settings_.inline_max);
}

void PgMetaStore::setxattr(uint64_t ino, std::string_view name, std::string_view value,
                           bool create, bool replace) {
  check_setxattr(name, value, create, replace);
  txn("setxattr", [&](InodeTxn& t) {
    t.relax_durability();  // durable at the next sync (doc/durability.md)
    t.get(ino, true);
    auto key = static_cast<int64_t>(ino);
    if (create) {
      if (t.tx().exec_prepared("xattr_insert", key, bytes_param(name), bytes_param(value)).empty())
        throw Error(Errc::exists, fmt::format("setxattr: inode {} already has xattr '{}'", ino,
                                              printable_name(name)));
    } else if (replace) {
      if (t.tx().exec_prepared("xattr_replace", key, bytes_param(name), bytes_param(value)).empty())
        throw Error(Errc::no_data, fmt::format("setxattr: inode {} has no xattr '{}'", ino,
                                               printable_name(name)));
    } else {
      t.tx().exec_prepared("xattr_upsert", key, bytes_param(name), bytes_param(value));
    }
    t.touch_inode(ino, 0);
  });
}

std::string PgMetaStore::getxattr(uint64_t ino, std::string_view name) {
  check_xattr_name(name);
  return read_one("getxattr", [&](pqxx::nontransaction& tx) {
    auto r = tx.exec_prepared("xattr_get", static_cast<int64_t>(ino), bytes_param(name));
    if (r.empty()) throw Error(Errc::not_found, fmt::format("inode {} does not exist", ino));
    if (r[0][0].is_null()) throw no_xattr(ino, name);
    return bytes_of(r[0][0]);
  });
}

std::vector<std::string> PgMetaStore::listxattr(uint64_t ino) {
  return txn("listxattr", [&](InodeTxn& t) {
    t.get(ino, false);
    std::vector<std::string> names;
    for (const auto& r : t.tx().exec_prepared("xattr_list", static_cast<int64_t>(ino)))
      names.push_back(bytes_of(r[0]));
    return names;
  });
}

void PgMetaStore::removexattr(uint64_t ino, std::string_view name) {
  check_xattr_name(name);
  txn("removexattr", [&](InodeTxn& t) {
    t.relax_durability();  // durable at the next sync (doc/durability.md)
    t.get(ino, true);
    if (t.tx().exec_prepared("xattr_remove", static_cast<int64_t>(ino), bytes_param(name)).empty())
      throw Error(Errc::no_data,
                  fmt::format("removexattr: inode {} has no xattr '{}'", ino, printable_name(name)));
    t.touch_inode(ino, 0);
  });
}

}  // namespace zhsm
