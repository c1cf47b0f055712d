// Plain values that cross the metadata interface (controller/meta_store.h): inode
// attributes, chunk layouts, directory pages, open results, server reports. They use the
// protocol's enums (FileType, AccessMode, CopyState) but no Cap'n Proto readers or
// builders, so a store implementation never sees the wire and the service never sees SQL.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "capnp/zhsm.capnp.h"
#include "common/uuid.h"

namespace zhsm {

// Identity of the process a FUSE request came from; the kernel checked permissions.
struct Caller {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// The attributes of one inode (see proto::Attr for the meaning of each field).
struct InodeAttr {
  uint64_t ino = 0;
  Uuid fsid;
  proto::FileType type = proto::FileType::REGULAR;
  uint32_t mode = 0;  // permission bits only (07777)
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  uint64_t rdev = 0;
  int64_t atime_ns = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t version = 0;
};

// The directories a namespace change touched (it added or removed names in them), with
// their attributes as the change left them: the parent, or both parents of a rename
// across directories. The cache keeps them, so the getattr a client sends next for the
// directory (the kernel forgets its attributes after such a change) is answered from
// memory.
using TouchedDirs = std::vector<InodeAttr>;

// mknod, mkdir, symlink, link: the node's attributes, and the directory that got the name.
struct NodeResult : InodeAttr {
  TouchedDirs dirs;
};

// unlink, rmdir: the inode the name named, and the directory that lost it.
struct RemoveResult {
  uint64_t ino = 0;
  TouchedDirs dirs;
};

// Where one copy of a data object lives, with the server that serves it.
struct CopyInfo {
  Uuid backend;
  std::string backend_name;
  Uuid server;
  std::string server_name;
  std::string address;  // "host:port" of the file server
  proto::CopyState state = proto::CopyState::CURRENT;
  uint64_t version = 0;
};

// One data object of a chunked file.
struct ChunkInfo {
  uint64_t index = 0;
  Uuid uuid;
  uint64_t version = 0;
  uint64_t size = 0;
  std::string sha256;  // 32 bytes, or empty when unknown (after a clip)
  std::vector<CopyInfo> copies;
};

struct DirEntryInfo {
  std::string name;
  uint64_t cookie = 0;
  InodeAttr attr;
};

struct DirPage {
  std::vector<DirEntryInfo> entries;
  bool eof = false;
  uint64_t parent_ino = 0;  // the listed directory's parent, for ".."
};

struct SetattrArgs {
  uint64_t ino = 0;
  std::optional<uint32_t> mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<uint64_t> size;
  std::optional<int64_t> atime_ns;  // explicit time
  bool atime_now = false;           // the controller's clock (wins over atime_ns)
  std::optional<int64_t> mtime_ns;
  bool mtime_now = false;
};

struct NodeArgs {
  uint64_t parent = 0;
  std::string name;
  proto::FileType type = proto::FileType::REGULAR;
  uint32_t mode = 0;
  uint64_t rdev = 0;
  std::string symlink_target;  // symlinks only
  Caller caller;
};

struct RenameArgs {
  uint64_t parent = 0;
  std::string name;
  uint64_t new_parent = 0;
  std::string new_name;
  bool no_replace = false;
  bool exchange = false;
};

// The inodes a rename changed besides the two directories: the one that moved, and the
// one that was replaced (its link count dropped) or exchanged; 0 when there was none.
struct RenameResult {
  uint64_t moved = 0;
  uint64_t other = 0;
  TouchedDirs dirs;  // empty when nothing changed (two names of one inode)
};

struct OpenArgs {
  uint64_t ino = 0;
  proto::AccessMode mode = proto::AccessMode::READ;
  bool truncate = false;
  uint64_t client_id = 0;
  // A read-only open whose caller keeps inline bytes itself: when the file is inline,
  // no token is recorded and the result's token id is 0 (Open.inlineWithoutToken).
  bool inline_without_token = false;
};

struct CreateArgs {
  uint64_t parent = 0;
  std::string name;
  uint32_t mode = 0;
  Caller caller;
  bool exclusive = false;
  bool truncate = false;
  proto::AccessMode access = proto::AccessMode::READ_WRITE;
  uint64_t client_id = 0;
};

// The fields of a token row; the service signs them.
struct TokenInfo {
  uint64_t token_id = 0;
  Uuid fsid;
  uint64_t ino = 0;
  proto::AccessMode mode = proto::AccessMode::READ;
  uint64_t expires_ms = 0;
  uint64_t client_id = 0;
};

struct OpenResult {
  InodeAttr attr;
  TokenInfo token;
  bool is_inline = false;
  std::string inline_data;  // zero-padded to attr.size when is_inline
  std::vector<ChunkInfo> chunks;
  std::optional<CopyInfo> write_target;  // write modes only; nullopt when no live backend
  std::vector<CopyInfo> write_targets;   // striped files: new chunk i goes to [i mod n]
  TouchedDirs dirs;  // create: the parent, when the call made the file
};

struct ChunkUpdateArgs {
  uint64_t index = 0;
  Uuid uuid;
  uint64_t version = 0;
  uint64_t size = 0;
  std::string sha256;
  Uuid backend;  // holds the current copy now
};

struct CommitArgs {
  uint64_t ino = 0;
  uint64_t token_id = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::vector<ChunkUpdateArgs> chunks;
  bool set_inline = false;
  std::string inline_data;
  bool drop_inline = false;
  // Mode, owner and access time to set with the commit, in its transaction, after its
  // checks (commitData.thenSetattr; the handler folds its mtime into mtime_ns and its
  // "now" times into explicit ones). No size.
  std::optional<SetattrArgs> then;
};

// What one commitData of a batch gave: its attributes, or the error it threw.
struct CommitOutcome {
  std::optional<InodeAttr> attr;
  std::exception_ptr error;
};

struct StatfsInfo {
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  uint64_t files = 0;  // an estimate
};

struct BackendReport {
  Uuid id;
  std::string name;
  std::string tier;
  std::string path;
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t object_count = 0;
  uint64_t device_id = 0;  // st_dev of its filesystem on its server; 0 = not reported
};

struct ObjectAddr {
  Uuid backend;
  Uuid uuid;
};

// What a file server says in registerServer (name, address set) or heartbeat (deleted set).
struct ServerReport {
  Uuid id;
  std::string name;
  std::string address;
  std::vector<BackendReport> backends;
  std::vector<ObjectAddr> deleted;
};

struct ServerState {
  Uuid id;
  std::string name;
  std::string address;
  int64_t last_heartbeat_ms = 0;
  bool maintenance = false;  // planned absence: its copies are not repaired elsewhere
  bool draining = false;     // everything on it is moved elsewhere
  std::vector<BackendReport> backends;
  uint32_t load = 0;         // data requests in progress at its last heartbeat (not stored)
};

// What the controller knows of a server when it orders copies for a reader.
struct ReadHint {
  bool leaving = false;  // in maintenance or draining: about to go, read elsewhere if possible
  uint32_t load = 0;     // data requests in progress at its last heartbeat
};

struct ClusterInfo {
  std::vector<ServerState> servers;
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t data_objects = 0;
  uint64_t data_bytes = 0;
  uint64_t clients = 0;
  uint64_t open_tokens = 0;
};

struct FileInfoResult {
  InodeAttr attr;
  bool is_inline = false;
  uint64_t chunk_size = 0;
  std::vector<ChunkInfo> chunks;
};

// Cluster-wide settings, fixed at the first start (inline_max may grow later).
struct Settings {
  Uuid cluster_id;
  uint64_t chunk_size = 0;
  uint64_t inline_max = 0;
};

struct SweepResult {
  uint64_t expired_tokens = 0;  // token rows deleted because they expired
  uint64_t reclaimed = 0;       // orphan inodes reclaimed
  uint64_t open_tokens = 0;     // token rows left
};

}  // namespace zhsm
