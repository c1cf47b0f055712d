// The argument checks and limits of the metadata interface that do not depend on stored
// state: valid access modes, mknod types, symlink targets, xattr names and values, setattr
// and commitData arguments, file server reports. Every MetaStore implementation (the
// PostgreSQL store and the in-memory fake) calls these, so both refuse the same requests
// with the same codes and messages. Each check throws zhsm::Error; all are pure and
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "controller/meta_types.h"

namespace zhsm {

inline constexpr uint32_t kMaxLinks = 65000;            // link() refuses more (too_many_links)
inline constexpr size_t kMaxSymlinkBytes = 4095;        // longest symlink target
inline constexpr size_t kMaxXattrValue = 64 * 1024;     // largest xattr value
inline constexpr uint32_t kMaxReaddirEntries = 1000;    // readdir page cap
inline constexpr size_t kMaxDeletionsPerBeat = 1000;    // objects per register/heartbeat answer
inline constexpr size_t kSweepBatch = 1000;             // tokens and orphans per sweep
inline constexpr int kMaxDirectoryDepth = 100000;       // rename's subtree walk gives up here

// Whether a token of this mode may write.
bool grants_write(proto::AccessMode mode);
// Whether an open may be answered without a token when its file is inline: it asked so,
// reads only and does not truncate (OpenArgs::inline_without_token).
bool wants_no_token(const OpenArgs& a);
// "read", "write", "readWrite", "append".
std::string access_mode_name(proto::AccessMode mode);
// invalid for a value outside proto::AccessMode.
void check_access_mode(proto::AccessMode mode);

// invalid unless mknod may create this type (regular, fifo, socket, devices).
void check_mknod_type(proto::FileType type);
// not_found when empty, name_too_long past 4095 bytes, invalid with a NUL byte.
void check_symlink_target(std::string_view target);

// What mkdir and symlink store: the type fixed, rdev 0, a symlink's mode 0777.
// symlink_node() also checks the target (check_symlink_target).
NodeArgs directory_node(const NodeArgs& args);
NodeArgs symlink_node(const NodeArgs& args);

// invalid when empty or with a NUL byte, name_too_long past 255 bytes.
void check_xattr_name(std::string_view name);
// The name, range for a value past 64 KiB, invalid for create together with replace.
void check_setxattr(std::string_view name, std::string_view value, bool create, bool replace);

// The names and flags of a rename: invalid names, invalid for exchange with noReplace.
void check_rename(const RenameArgs& args);

// setattr on the inode `current`: invalid mode bits; a size change only on regular files
// (is_dir for directories, invalid otherwise) and within int64.
void check_setattr(const SetattrArgs& args, const InodeAttr& current);

// The arguments of commitData that need no stored state (sizes, inline rules, chunk
// fields), with `settings` giving chunk_size and inline_max.
void check_commit(const CommitArgs& args, const Settings& settings);

// invalid for more than kSweepBatch token ids in one find_tokens call.
void check_token_batch(const std::vector<uint64_t>& token_ids);

// A file server's registerServer (`registering`) or heartbeat report.
void check_server_report(const ServerReport& report, bool registering);

// "'name' in directory N", for messages.
std::string entry_text(uint64_t parent, std::string_view name);

// The errors of a lookup that finds no such name and of a getxattr of an attribute the
// inode does not have, worded alike by every store and by the cache in front of them.
Error no_entry(uint64_t parent, std::string_view name);
Error no_xattr(uint64_t ino, std::string_view name);

// The attributes of a new inode (no number yet: the store assigns it): a fresh fsid,
// version 1, every time `now_ns`, size 0 (a symlink: its target's length).
InodeAttr new_inode_attr(proto::FileType type, uint32_t mode, uint32_t uid, uint32_t gid,
                         uint32_t nlink, uint64_t rdev, std::string_view symlink_target,
                         int64_t now_ns);

}  // namespace zhsm
