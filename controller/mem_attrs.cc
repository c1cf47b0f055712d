// Attribute changes for MemMetaStore: setattr (mode, owner, times, size with truncation
// or extension of inline data and chunks) and extended attributes, following
// controller/db/pg_setattr.cc.
#include <fmt/format.h>

#include "common/error.h"
#include "controller/mem_meta_store.h"
#include "controller/meta_checks.h"
#include "controller/names.h"

namespace zhsm {

InodeAttr MemMetaStore::setattr(const SetattrArgs& a) {
  auto lock = begin();
  Inode& inode = get(a.ino);
  check_setattr(a, inode.attr);
  const int64_t now = now_ns();
  std::optional<int64_t> atime = a.atime_now ? std::optional<int64_t>(now) : a.atime_ns;
  std::optional<int64_t> mtime = a.mtime_now ? std::optional<int64_t>(now) : a.mtime_ns;
  // A size change is a content change: mtime follows unless the caller set it.
  if (a.size && *a.size != inode.attr.size && !mtime) mtime = now;
  if (a.size) fit_chunks(a.ino, *a.size);
  auto& attr = inode.attr;
  if (a.mode) attr.mode = *a.mode;
  if (a.uid) attr.uid = *a.uid;
  if (a.gid) attr.gid = *a.gid;
  if (atime) attr.atime_ns = *atime;
  if (mtime) attr.mtime_ns = *mtime;
  if (a.size) {
    attr.size = *a.size;
    // Truncation clips the stored bytes; growing past inline_max drops them.
    if (*a.size > settings_.inline_max)
      inode.inline_data.reset();
    else if (inode.inline_data && inode.inline_data->size() > *a.size)
      inode.inline_data->resize(*a.size);
  }
  attr.ctime_ns = now;
  ++attr.version;
  return attr;
}

void MemMetaStore::setxattr(uint64_t ino, std::string_view name, std::string_view value,
                            bool create, bool replace) {
  check_setxattr(name, value, create, replace);
  auto lock = begin();
  Inode& inode = get(ino);
  auto it = inode.xattrs.find(std::string(name));
  if (create && it != inode.xattrs.end())
    throw Error(Errc::exists, fmt::format("setxattr: inode {} already has xattr '{}'", ino,
                                          printable_name(name)));
  if (replace && it == inode.xattrs.end())
    throw Error(Errc::no_data,
                fmt::format("setxattr: inode {} has no xattr '{}'", ino, printable_name(name)));
  inode.xattrs[std::string(name)] = std::string(value);
  touch_inode(ino, 0);
}

std::string MemMetaStore::getxattr(uint64_t ino, std::string_view name) {
  check_xattr_name(name);
  auto lock = begin();
  const Inode& inode = get(ino);
  auto it = inode.xattrs.find(std::string(name));
  if (it == inode.xattrs.end()) throw no_xattr(ino, name);
  return it->second;
}

std::vector<std::string> MemMetaStore::listxattr(uint64_t ino) {
  auto lock = begin();
  std::vector<std::string> names;
  for (const auto& [name, value] : get(ino).xattrs) names.push_back(name);
  return names;
}

void MemMetaStore::removexattr(uint64_t ino, std::string_view name) {
  check_xattr_name(name);
  auto lock = begin();
  Inode& inode = get(ino);
  if (inode.xattrs.erase(std::string(name)) == 0)
    throw Error(Errc::no_data,
                fmt::format("removexattr: inode {} has no xattr '{}'", ino, printable_name(name)));
  touch_inode(ino, 0);
}

}  // namespace zhsm
