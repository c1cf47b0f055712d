// rename(2) for PgMetaStore, including RENAME_NOREPLACE and RENAME_EXCHANGE. Directories
// that change parent take a cluster-wide advisory lock first (like the kernel's rename
// mutex), so two concurrent moves cannot build a cycle; the subtree check then walks the
// new parent's ancestors. Parents are locked in ascending inode order.
#include <fmt/format.h>

#include "common/error.h"
#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_rows.h"
#include "controller/meta_checks.h"
#include "controller/names.h"

namespace zhsm {
namespace {

// Key of the transaction-level advisory lock serializing cross-directory directory moves.
constexpr int64_t kDirMoveLockKey = 0x7a68736d0001;  // "zhsm" 0001

// Whether `ino` is `ancestor` or lies below it.
bool within(InodeTxn& t, uint64_t ino, uint64_t ancestor) {
  for (int depth = 0; depth < kMaxDirectoryDepth; ++depth) {
    if (ino == ancestor) return true;
    if (ino == 1) return false;
    auto r = t.tx().exec_prepared("ino_parent", static_cast<int64_t>(ino));
    if (r.empty()) return false;
    ino = r[0][0].as<uint64_t>();
  }
  throw Error(Errc::internal,
              fmt::format("directory {} is nested deeper than {}", ino, kMaxDirectoryDepth));
}

bool is_dir_entry(InodeTxn& t, uint64_t parent, std::string_view name) {
  auto r = t.tx().exec_prepared("dent_type", static_cast<int64_t>(parent), bytes_param(name));
  return !r.empty() && r[0][0].as<int>() == static_cast<int>(proto::FileType::DIRECTORY);
}

}  // namespace

void prepare_rename_statements(pqxx::connection& c) {
  c.prepare("ino_parent", "SELECT parent FROM inodes WHERE ino = $1");
  c.prepare("dent_type",
            "SELECT i.type FROM dentries d JOIN inodes i ON i.ino = d.ino "
            "WHERE d.parent = $1 AND d.name = $2");
  c.prepare("dent_move",
            "UPDATE dentries SET parent = $3, name = $4 WHERE parent = $1 AND name = $2");
  c.prepare("dent_retarget", "UPDATE dentries SET ino = $3 WHERE parent = $1 AND name = $2");
  c.prepare("ino_set_parent", "UPDATE inodes SET parent = $2 WHERE ino = $1");
  c.prepare("dir_move_lock", "SELECT pg_advisory_xact_lock($1)");
}

RenameResult PgMetaStore::rename(const RenameArgs& a) {
  check_rename(a);
  return txn("rename", [&](InodeTxn& t) -> RenameResult {
    t.relax_durability();  // durable at the next sync (doc/durability.md)
    const bool cross = a.parent != a.new_parent;
    bool move_locked = false;
    auto lock_moves = [&] {
      if (move_locked) return;
      t.tx().exec_prepared("dir_move_lock", kDirMoveLockKey);
      move_locked = true;
    };
    // Take the move lock before any row lock when a directory may change parent.
    if (cross && (is_dir_entry(t, a.parent, a.name) ||
                  (a.exchange && is_dir_entry(t, a.new_parent, a.new_name))))
      lock_moves();

    InodeRow first = t.dir(std::min(a.parent, a.new_parent), true, "parent directory");
    InodeRow second = cross ? t.dir(std::max(a.parent, a.new_parent), true, "parent directory")
                            : first;
    const InodeRow& new_parent = a.new_parent == first.attr.ino ? first : second;
    if (first.attr.nlink == 0 || second.attr.nlink == 0 || new_parent.attr.nlink == 0)
      throw Error(Errc::not_found, "rename: a parent directory has been removed");

    auto src_ino = t.entry(a.parent, a.name);
    if (!src_ino) throw Error(Errc::not_found, "rename: no entry " + entry_text(a.parent, a.name));
    auto dst_ino = t.entry(a.new_parent, a.new_name);
    if (a.exchange && !dst_ino)
      throw Error(Errc::not_found,
                  "rename: exchange target " + entry_text(a.new_parent, a.new_name) + " missing");
    if (dst_ino && *dst_ino == *src_ino) return {};  // same inode: POSIX says do nothing
    if (dst_ino && a.no_replace)
      throw Error(Errc::exists,
                  "rename: " + entry_text(a.new_parent, a.new_name) + " already exists");

    InodeRow src = t.get(*src_ino, true);
    std::optional<InodeRow> dst;
    if (dst_ino) dst = t.get(*dst_ino, true);
    const bool src_dir = src.is_dir();
    const bool dst_dir = dst && dst->is_dir();

    if (cross && (src_dir || (a.exchange && dst_dir))) {
      lock_moves();  // normally taken above; a concurrent change may have made it a directory
      if (src_dir && within(t, a.new_parent, src.attr.ino))
        throw Error(Errc::invalid, fmt::format("rename: cannot move directory {} into itself",
                                               src.attr.ino));
      if (a.exchange && dst_dir && within(t, a.parent, dst->attr.ino))
        throw Error(Errc::invalid, fmt::format("rename: cannot move directory {} into itself",
                                               dst->attr.ino));
    }

    int delta_old = 0;  // nlink change of the source parent
    int delta_new = 0;  // nlink change of the target parent
    if (a.exchange) {
      t.tx().exec_prepared("dent_retarget", static_cast<int64_t>(a.parent), bytes_param(a.name),
                           static_cast<int64_t>(dst->attr.ino));
      t.tx().exec_prepared("dent_retarget", static_cast<int64_t>(a.new_parent),
                           bytes_param(a.new_name), static_cast<int64_t>(src.attr.ino));
      if (cross) {
        if (src_dir) {
          t.tx().exec_prepared("ino_set_parent", static_cast<int64_t>(src.attr.ino),
                               static_cast<int64_t>(a.new_parent));
          --delta_old;
          ++delta_new;
        }
        if (dst_dir) {
          t.tx().exec_prepared("ino_set_parent", static_cast<int64_t>(dst->attr.ino),
                               static_cast<int64_t>(a.parent));
          ++delta_old;
          --delta_new;
        }
      }
      t.touch_inode(dst->attr.ino, 0);
    } else {
      if (dst) {
        if (src_dir && !dst_dir)
          throw Error(Errc::not_dir, "rename: " + entry_text(a.new_parent, a.new_name) +
                                         " is not a directory");
        if (!src_dir && dst_dir)
          throw Error(Errc::is_dir,
                      "rename: " + entry_text(a.new_parent, a.new_name) + " is a directory");
        if (dst_dir &&
            !t.tx().exec_prepared("dir_has_entries", static_cast<int64_t>(dst->attr.ino)).empty())
          throw Error(Errc::not_empty,
                      "rename: " + entry_text(a.new_parent, a.new_name) + " is not empty");
        t.remove_entry(a.new_parent, a.new_name);
        if (dst_dir) --delta_new;
        t.drop_link(dst->attr.ino, dst_dir);
      }
      t.tx().exec_prepared("dent_move", static_cast<int64_t>(a.parent), bytes_param(a.name),
                           static_cast<int64_t>(a.new_parent), bytes_param(a.new_name));
      if (src_dir && cross) {
        t.tx().exec_prepared("ino_set_parent", static_cast<int64_t>(src.attr.ino),
                             static_cast<int64_t>(a.new_parent));
        --delta_old;
        ++delta_new;
      }
    }
    t.touch_inode(src.attr.ino, 0);
    if (cross) {
      t.touch_dir(a.parent, delta_old);
      t.touch_dir(a.new_parent, delta_new);
    } else {
      t.touch_dir(a.parent, delta_old + delta_new);
    }
    return RenameResult{*src_ino, dst_ino.value_or(0), t.touched_dirs()};
  });
}

}  // namespace zhsm
