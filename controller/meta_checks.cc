// State-free argument checks of the metadata interface (see meta_checks.h).
#include "controller/meta_checks.h"

#include <fmt/format.h>

#include "common/error.h"
#include "controller/names.h"

namespace zhsm {

bool grants_write(proto::AccessMode mode) { return mode != proto::AccessMode::READ; }

bool wants_no_token(const OpenArgs& a) {
  return a.inline_without_token && !a.truncate && !grants_write(a.mode);
}

std::string access_mode_name(proto::AccessMode mode) {
  switch (mode) {
    case proto::AccessMode::READ: return "read";
    case proto::AccessMode::WRITE: return "write";
    case proto::AccessMode::READ_WRITE: return "readWrite";
    case proto::AccessMode::APPEND: return "append";
  }
  return "unknown";
}

void check_access_mode(proto::AccessMode mode) {
  if (static_cast<uint16_t>(mode) > static_cast<uint16_t>(proto::AccessMode::APPEND))
    throw Error(Errc::invalid, fmt::format("unknown access mode {}", static_cast<int>(mode)));
}

void check_mknod_type(proto::FileType type) {
  switch (type) {
    case proto::FileType::REGULAR:
    case proto::FileType::FIFO:
    case proto::FileType::SOCKET:
    case proto::FileType::CHAR_DEVICE:
    case proto::FileType::BLOCK_DEVICE:
      return;
    default:
      throw Error(Errc::invalid,
                  fmt::format("mknod cannot create file type {}", static_cast<int>(type)));
  }
}

void check_symlink_target(std::string_view target) {
  if (target.empty()) throw Error(Errc::not_found, "symlink target is empty");
  if (target.size() > kMaxSymlinkBytes)
    throw Error(Errc::name_too_long, fmt::format("symlink target of {} bytes is longer than {}",
                                                 target.size(), kMaxSymlinkBytes));
  if (target.find('\0') != std::string_view::npos)
    throw Error(Errc::invalid, "symlink target contains a NUL byte");
}

void check_xattr_name(std::string_view name) {
  if (name.empty()) throw Error(Errc::invalid, "xattr name is empty");
  if (name.find('\0') != std::string_view::npos)
    throw Error(Errc::invalid, "xattr name contains a NUL byte");
  if (name.size() > kMaxNameBytes)
    throw Error(Errc::name_too_long, fmt::format("xattr name of {} bytes is longer than {}",
                                                 name.size(), kMaxNameBytes));
}

void check_setxattr(std::string_view name, std::string_view value, bool create, bool replace) {
  check_xattr_name(name);
  if (value.size() > kMaxXattrValue)
    throw Error(Errc::range, fmt::format("xattr value of {} bytes is larger than {}",
                                         value.size(), kMaxXattrValue));
  if (create && replace) throw Error(Errc::invalid, "setxattr: create and replace both set");
}

void check_rename(const RenameArgs& a) {
  check_name(a.name);
  check_name(a.new_name, "new name");
  if (a.exchange && a.no_replace)
    throw Error(Errc::invalid, "rename: exchange and noReplace exclude each other");
}

void check_setattr(const SetattrArgs& a, const InodeAttr& current) {
  if (a.mode && (*a.mode & ~07777u))
    throw Error(Errc::invalid, fmt::format("setattr: mode {:o} has bits beyond 07777", *a.mode));
  if (!a.size) return;
  if (current.type == proto::FileType::DIRECTORY)
    throw Error(Errc::is_dir, fmt::format("setattr: cannot truncate directory {}", a.ino));
  if (current.type != proto::FileType::REGULAR)
    throw Error(Errc::invalid,
                fmt::format("setattr: cannot truncate inode {}: not a regular file", a.ino));
  if (*a.size > static_cast<uint64_t>(INT64_MAX))
    throw Error(Errc::invalid, fmt::format("setattr: size {} too large", *a.size));
}

void check_commit(const CommitArgs& a, const Settings& settings) {
  if (a.size > static_cast<uint64_t>(INT64_MAX))
    throw Error(Errc::invalid, fmt::format("commitData: size {} too large", a.size));
  if (a.then) {
    if (a.then->ino != a.ino || a.then->size || a.then->atime_now || a.then->mtime_now ||
        a.then->mtime_ns)
      throw Error(Errc::invalid, fmt::format("commitData of ino {}: the attributes it sets must "
                                             "be of the same inode, explicit, and leave size "
                                             "and mtime to the commit", a.ino));
    check_setattr(*a.then, InodeAttr{});
  }
  if (a.set_inline && a.drop_inline)
    throw Error(Errc::invalid, "commitData: setInline and dropInline both set");
  if (a.set_inline && (a.inline_data.size() > settings.inline_max || a.size > settings.inline_max))
    throw Error(Errc::invalid,
                fmt::format("commitData: inline data of {} bytes (file size {}) exceeds inline_max {}",
                            a.inline_data.size(), a.size, settings.inline_max));
  if (a.set_inline && !a.chunks.empty())
    throw Error(Errc::invalid, "commitData: setInline together with chunk updates");
  for (const auto& u : a.chunks) {
    if (u.uuid.is_nil() || u.backend.is_nil())
      throw Error(Errc::invalid, fmt::format("commitData: chunk {} lacks uuid or backend", u.index));
    if (!u.sha256.empty() && u.sha256.size() != 32)
      throw Error(Errc::invalid, fmt::format("commitData: chunk {} sha256 has {} bytes", u.index,
                                             u.sha256.size()));
    if (u.size > settings.chunk_size)
      throw Error(Errc::invalid, fmt::format("commitData: chunk {} size {} exceeds chunk size {}",
                                             u.index, u.size, settings.chunk_size));
    if (u.version == 0 || u.version > static_cast<uint64_t>(INT64_MAX))
      throw Error(Errc::invalid, fmt::format("commitData: chunk {} version {} out of range",
                                             u.index, u.version));
  }
}

void check_token_batch(const std::vector<uint64_t>& token_ids) {
  if (token_ids.size() > kSweepBatch)
    throw Error(Errc::invalid, fmt::format("find_tokens: {} token ids, at most {} per call",
                                           token_ids.size(), kSweepBatch));
}

void check_server_report(const ServerReport& r, bool registering) {
  if (r.id.is_nil()) throw Error(Errc::invalid, "server report lacks a server UUID");
  if (registering && r.name.empty())
    throw Error(Errc::invalid, fmt::format("server {} registers without a name", r.id.str()));
  if (registering && r.address.empty())
    throw Error(Errc::invalid, fmt::format("server {} registers without an address", r.id.str()));
  for (const auto& b : r.backends) {
    if (b.id.is_nil())
      throw Error(Errc::invalid, fmt::format("server {} reports a backend without UUID", r.id.str()));
    if (registering && b.name.empty())
      throw Error(Errc::invalid,
                  fmt::format("server {} reports backend {} without a name", r.id.str(), b.id.str()));
  }
}

std::string entry_text(uint64_t parent, std::string_view name) {
  return fmt::format("'{}' in directory {}", printable_name(name), parent);
}

Error no_entry(uint64_t parent, std::string_view name) {
  return Error(Errc::not_found, "no entry " + entry_text(parent, name));
}

Error no_xattr(uint64_t ino, std::string_view name) {
  return Error(Errc::no_data, fmt::format("inode {} has no xattr '{}'", ino, printable_name(name)));
}

InodeAttr new_inode_attr(proto::FileType type, uint32_t mode, uint32_t uid, uint32_t gid,
                         uint32_t nlink, uint64_t rdev, std::string_view symlink_target,
                         int64_t now_ns) {
  InodeAttr a;
  a.fsid = Uuid::random();
  a.type = type;
  a.mode = mode & 07777;
  a.uid = uid;
  a.gid = gid;
  a.nlink = nlink;
  a.size = type == proto::FileType::SYMLINK ? symlink_target.size() : 0;
  a.rdev = rdev;
  a.atime_ns = a.mtime_ns = a.ctime_ns = now_ns;
  a.version = 1;
  return a;
}

NodeArgs directory_node(const NodeArgs& args) {
  NodeArgs a = args;
  a.type = proto::FileType::DIRECTORY;
  a.rdev = 0;
  return a;
}

NodeArgs symlink_node(const NodeArgs& args) {
  check_symlink_target(args.symlink_target);
  NodeArgs a = args;
  a.type = proto::FileType::SYMLINK;
  a.mode = 0777;
  a.rdev = 0;
  return a;
}

}  // namespace zhsm
