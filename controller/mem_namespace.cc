// Namespace operations of MemMetaStore: lookup, getattr, creating nodes (mknod, mkdir,
// symlink), link, unlink, rmdir, rename (noReplace, exchange, the subtree check),
// readlink and paged readdir. Each follows controller/db/pg_namespace.cc and
// pg_rename.cc check for check, so both engines give the same answers; every check comes
// before the first change.
#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "controller/mem_meta_store.h"
#include "controller/meta_checks.h"
#include "controller/names.h"

namespace zhsm {
namespace {

// A directory removed while a token kept it: nothing may be created in it.
void check_live_dir(const InodeAttr& dir) {
  if (dir.nlink == 0)
    throw Error(Errc::not_found, fmt::format("directory {} has been removed", dir.ino));
}

}  // namespace

InodeAttr MemMetaStore::lookup(uint64_t parent, std::string_view name) {
  check_name(name);
  auto lock = begin();
  dir(parent, "parent directory");
  auto ino = entry(parent, name);
  if (!ino) throw no_entry(parent, name);
  return get(*ino).attr;
}

InodeAttr MemMetaStore::getattr(uint64_t ino) {
  auto lock = begin();
  return get(ino).attr;
}

NodeResult MemMetaStore::mknod(const NodeArgs& args) {
  check_mknod_type(args.type);
  return make_node(args, "mknod");
}

NodeResult MemMetaStore::mkdir(const NodeArgs& args) {
  return make_node(directory_node(args), "mkdir");
}

NodeResult MemMetaStore::symlink(const NodeArgs& args) {
  return make_node(symlink_node(args), "symlink");
}

NodeResult MemMetaStore::make_node(const NodeArgs& args, std::string_view op) {
  check_name(args.name);
  auto lock = begin();
  const InodeAttr parent = dir(args.parent, "parent directory").attr;
  check_live_dir(parent);
  if (entry(args.parent, args.name))
    throw Error(Errc::exists,
                fmt::format("{}: {} already exists", op, entry_text(args.parent, args.name)));
  const bool is_dir = args.type == proto::FileType::DIRECTORY;
  uint32_t mode = args.mode & 07777;
  uint32_t gid = args.caller.gid;
  if (parent.mode & 02000) {  // setgid directory: group (and setgid for dirs) inherited
    gid = parent.gid;
    if (is_dir) mode |= 02000;
  }
  const InodeAttr attr = insert_inode(args.type, mode, args.caller.uid, gid, is_dir ? 2 : 1,
                                      args.rdev, args.parent, args.symlink_target)
                             .attr;
  add_entry(args.parent, args.name, attr.ino);
  touch_dir(args.parent, is_dir ? 1 : 0);
  return NodeResult{attr, {get(args.parent).attr}};
}

NodeResult MemMetaStore::link(uint64_t ino, uint64_t new_parent, std::string_view new_name) {
  check_name(new_name);
  auto lock = begin();
  check_live_dir(dir(new_parent, "parent directory").attr);
  const InodeAttr target = get(ino).attr;
  if (target.type == proto::FileType::DIRECTORY)
    throw Error(Errc::not_permitted, fmt::format("link: inode {} is a directory", ino));
  if (target.nlink == 0)
    throw Error(Errc::not_found, fmt::format("link: inode {} has been unlinked", ino));
  if (target.nlink >= kMaxLinks)
    throw Error(Errc::too_many_links,
                fmt::format("link: inode {} already has {} links", ino, target.nlink));
  if (entry(new_parent, new_name))
    throw Error(Errc::exists,
                fmt::format("link: {} already exists", entry_text(new_parent, new_name)));
  add_entry(new_parent, new_name, ino);
  touch_inode(ino, 1);
  touch_dir(new_parent, 0);
  return NodeResult{get(ino).attr, {get(new_parent).attr}};
}

RemoveResult MemMetaStore::unlink(uint64_t parent, std::string_view name) {
  check_name(name);
  auto lock = begin();
  dir(parent, "parent directory");
  auto ino = entry(parent, name);
  if (!ino) throw Error(Errc::not_found, "unlink: no entry " + entry_text(parent, name));
  if (get(*ino).is_dir())
    throw Error(Errc::is_dir, "unlink: " + entry_text(parent, name) + " is a directory");
  remove_entry(parent, name);
  touch_dir(parent, 0);
  drop_link(*ino, false);
  return RemoveResult{*ino, {get(parent).attr}};
}

RemoveResult MemMetaStore::rmdir(uint64_t parent, std::string_view name) {
  check_name(name);
  auto lock = begin();
  dir(parent, "parent directory");
  auto ino = entry(parent, name);
  if (!ino) throw Error(Errc::not_found, "rmdir: no entry " + entry_text(parent, name));
  if (*ino == 1) throw Error(Errc::busy, "rmdir: cannot remove the root directory");
  if (!get(*ino).is_dir())
    throw Error(Errc::not_dir, "rmdir: " + entry_text(parent, name) + " is not a directory");
  if (has_entries(*ino))
    throw Error(Errc::not_empty, "rmdir: " + entry_text(parent, name) + " is not empty");
  remove_entry(parent, name);
  touch_dir(parent, -1);
  drop_link(*ino, true);
  return RemoveResult{*ino, {get(parent).attr}};
}

bool MemMetaStore::within(uint64_t ino, uint64_t ancestor) {
  for (int depth = 0; depth < kMaxDirectoryDepth; ++depth) {
    if (ino == ancestor) return true;
    if (ino == 1) return false;
    Inode* inode = find(ino);
    if (!inode) return false;
    ino = inode->parent;
  }
  throw Error(Errc::internal,
              fmt::format("directory {} is nested deeper than {}", ino, kMaxDirectoryDepth));
}

RenameResult MemMetaStore::rename(const RenameArgs& a) {
  check_rename(a);
  auto lock = begin();
  const bool cross = a.parent != a.new_parent;
  const InodeAttr first = dir(std::min(a.parent, a.new_parent), "parent directory").attr;
  const InodeAttr second =
      cross ? dir(std::max(a.parent, a.new_parent), "parent directory").attr : first;
  if (first.nlink == 0 || second.nlink == 0)
    throw Error(Errc::not_found, "rename: a parent directory has been removed");

  auto src_ino = entry(a.parent, a.name);
  if (!src_ino) throw Error(Errc::not_found, "rename: no entry " + entry_text(a.parent, a.name));
  auto dst_ino = entry(a.new_parent, a.new_name);
  if (a.exchange && !dst_ino)
    throw Error(Errc::not_found,
                "rename: exchange target " + entry_text(a.new_parent, a.new_name) + " missing");
  if (dst_ino && *dst_ino == *src_ino) return {};  // same inode: POSIX says do nothing
  if (dst_ino && a.no_replace)
    throw Error(Errc::exists,
                "rename: " + entry_text(a.new_parent, a.new_name) + " already exists");

  const bool src_dir = get(*src_ino).is_dir();
  const bool dst_dir = dst_ino && get(*dst_ino).is_dir();
  if (cross && src_dir && within(a.new_parent, *src_ino))
    throw Error(Errc::invalid,
                fmt::format("rename: cannot move directory {} into itself", *src_ino));
  if (cross && a.exchange && dst_dir && within(a.parent, *dst_ino))
    throw Error(Errc::invalid,
                fmt::format("rename: cannot move directory {} into itself", *dst_ino));
  if (!a.exchange && dst_ino) {
    if (src_dir && !dst_dir)
      throw Error(Errc::not_dir,
                  "rename: " + entry_text(a.new_parent, a.new_name) + " is not a directory");
    if (!src_dir && dst_dir)
      throw Error(Errc::is_dir,
                  "rename: " + entry_text(a.new_parent, a.new_name) + " is a directory");
    if (dst_dir && has_entries(*dst_ino))
      throw Error(Errc::not_empty,
                  "rename: " + entry_text(a.new_parent, a.new_name) + " is not empty");
  }

  // Checks done; from here on nothing fails.
  int delta_old = 0;  // nlink change of the source parent
  int delta_new = 0;  // nlink change of the target parent
  if (a.exchange) {
    dirs_.at(a.parent).by_name.find(a.name)->second.ino = *dst_ino;
    dirs_.at(a.new_parent).by_name.find(a.new_name)->second.ino = *src_ino;
    if (cross) {
      if (src_dir) {
        get(*src_ino).parent = a.new_parent;
        --delta_old;
        ++delta_new;
      }
      if (dst_dir) {
        get(*dst_ino).parent = a.parent;
        ++delta_old;
        --delta_new;
      }
    }
    touch_inode(*dst_ino, 0);
  } else {
    if (dst_ino) {
      remove_entry(a.new_parent, a.new_name);
      if (dst_dir) --delta_new;
      drop_link(*dst_ino, dst_dir);
    }
    uint64_t cookie = remove_entry(a.parent, a.name);
    add_entry(a.new_parent, a.new_name, *src_ino, cookie);  // the cookie stays
    if (src_dir && cross) {
      get(*src_ino).parent = a.new_parent;
      --delta_old;
      ++delta_new;
    }
  }
  touch_inode(*src_ino, 0);
  if (cross) {
    touch_dir(a.parent, delta_old);
    touch_dir(a.new_parent, delta_new);
  } else {
    touch_dir(a.parent, delta_old + delta_new);
  }
  TouchedDirs dirs{get(a.parent).attr};
  if (cross) dirs.push_back(get(a.new_parent).attr);
  return {*src_ino, dst_ino.value_or(0), std::move(dirs)};
}

std::string MemMetaStore::readlink(uint64_t ino) {
  auto lock = begin();
  const Inode& inode = get(ino);
  if (inode.attr.type != proto::FileType::SYMLINK)
    throw Error(Errc::invalid, fmt::format("readlink: inode {} is not a symlink", ino));
  return inode.symlink;
}

DirPage MemMetaStore::readdir(uint64_t ino, uint64_t after, uint32_t max_entries) {
  const uint32_t limit = std::clamp<uint32_t>(max_entries, 1, kMaxReaddirEntries);
  auto lock = begin();
  DirPage page;
  page.parent_ino = dir(ino).parent;
  const Dir& d = dirs_.at(ino);
  auto it = d.by_cookie.upper_bound(after);
  for (; it != d.by_cookie.end() && page.entries.size() < limit; ++it) {
    DirEntryInfo e;
    e.name = it->second;
    e.cookie = it->first;
    e.attr = get(d.by_name.find(it->second)->second.ino).attr;
    page.entries.push_back(std::move(e));
  }
  page.eof = it == d.by_cookie.end();
  return page;
}

}  // namespace zhsm
