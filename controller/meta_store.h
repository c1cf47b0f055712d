// The metadata interface: everything the controller's services ask of the database,
// as plain calls on plain values (controller/meta_types.h). The PostgreSQL engine is
// controller/db/pg_meta_store.h; tests may substitute a fake.
//
// Contract for every method: thread-safe (callers run them on a pool of threads); a
// mutation is one transaction, committed before the method returns; an expected outcome
// (no such name, name exists, ...) and a logistics failure (database gone, conflict retried
// too often) are thrown as zhsm::Error with a message carrying the context. Names are raw
// bytes. Times come from the store's clock unless an argument gives them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/meta_types.h"

namespace zhsm {

class MetaStore {
 public:
  virtual ~MetaStore() = default;

  // Settings as established at start. Never blocks.
  virtual const Settings& settings() const = 0;

  // ---- clients
  // A new client session; returns its id (never 0).
  virtual uint64_t add_client(const std::string& name) = 0;
  // Records that the client was seen now. Idempotent.
  virtual void touch_client(uint64_t client_id) = 0;
  // Whether any client was seen (hello or touch) at or after `since_ms` (ms since the epoch).
  virtual bool clients_seen_since(int64_t since_ms) = 0;
  // An earlier session of a client is live again (its process reconnected): records the
  // name and that it was seen now. Returns false, changing nothing, for an unknown id.
  // Idempotent.
  virtual bool resume_client(uint64_t client_id, const std::string& name) = 0;

  // ---- namespace
  // The inode `name` names in directory `parent`. not_found, not_dir, invalid, name_too_long.
  virtual InodeAttr lookup(uint64_t parent, std::string_view name) = 0;
  virtual InodeAttr getattr(uint64_t ino) = 0;
  // The same answers from memory, never blocking: nullopt when only the database knows
  // (always, unless the store keeps a cache); an error the memory knows is thrown.
  virtual std::optional<InodeAttr> peek_lookup(uint64_t parent, std::string_view name) {
    return std::nullopt;
  }
  virtual std::optional<InodeAttr> peek_getattr(uint64_t ino) { return std::nullopt; }
  // The answer to a read-only open that asked for no token, when memory has it
  // (CachingMetaStore); otherwise nullopt and the caller goes to open().
  virtual std::optional<OpenResult> peek_open(const OpenArgs& args) { return std::nullopt; }
  virtual std::optional<std::string> peek_getxattr(uint64_t ino, std::string_view name) {
    return std::nullopt;
  }
  // Changes attributes; a size change truncates or extends the data (chunks past the new
  // size are queued for deletion). Bumps version and ctime.
  virtual InodeAttr setattr(const SetattrArgs& args) = 0;
  // Creates a regular file, fifo, socket or device node (args.type), a directory or a
  // symlink. exists when the name is taken. Every change below that adds or removes a
  // name also returns the touched directories' new attributes (TouchedDirs).
  virtual NodeResult mknod(const NodeArgs& args) = 0;
  virtual NodeResult mkdir(const NodeArgs& args) = 0;
  virtual NodeResult symlink(const NodeArgs& args) = 0;
  // A new name for an existing non-directory inode.
  virtual NodeResult link(uint64_t ino, uint64_t new_parent, std::string_view new_name) = 0;
  // Removes a non-directory name; the inode goes when its last link and last token go.
  // Returns the inode the name named.
  virtual RemoveResult unlink(uint64_t parent, std::string_view name) = 0;
  // Removes an empty directory; returns its inode.
  virtual RemoveResult rmdir(uint64_t parent, std::string_view name) = 0;
  virtual RenameResult rename(const RenameArgs& args) = 0;
  // The target of a symlink; invalid for other types.
  virtual std::string readlink(uint64_t ino) = 0;
  // Entries with cookie > after, ascending by cookie, at most max_entries (capped at 1000).
  virtual DirPage readdir(uint64_t ino, uint64_t after, uint32_t max_entries) = 0;

  // ---- xattrs
  virtual void setxattr(uint64_t ino, std::string_view name, std::string_view value,
                        bool create, bool replace) = 0;
  virtual std::string getxattr(uint64_t ino, std::string_view name) = 0;
  virtual std::vector<std::string> listxattr(uint64_t ino) = 0;
  virtual void removexattr(uint64_t ino, std::string_view name) = 0;

  // ---- open files and data
  // Opens (and with args.truncate truncates) an inode and records a token for it.
  virtual OpenResult open(const OpenArgs& args) = 0;
  // Creates a regular file (or opens an existing one unless exclusive) and records a token.
  virtual OpenResult create(const CreateArgs& args) = 0;
  // Drops a token; reclaims its inode if it was the last token of an unlinked inode.
  // Unknown tokens are ignored (idempotent).
  virtual void release(uint64_t token_id) = 0;
  // release() of each token, in one call: a mount's releases of files closed close
  // together. Unknown tokens are ignored.
  virtual void release_many(const std::vector<uint64_t>& token_ids) = 0;
  // Extends a token's expiry; bad_token when the token is unknown.
  virtual TokenInfo renew_token(uint64_t token_id) = 0;
  // Records the result of a write session (see doc/architecture.md). bad_token unless the
  // token exists, names args.ino and grants writing.
  virtual InodeAttr commit_data(const CommitArgs& args) = 0;
  // Several commitData calls at once (controller/group_commit.h): each outcome is what
  // commit_data(*batch[i]) would have given, attributes or error, in the order given; a
  // store may carry them in one transaction. This one commits each alone.
  virtual std::vector<CommitOutcome> commit_data_batch(const std::vector<const CommitArgs*>& batch) {
    std::vector<CommitOutcome> out(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      try {
        out[i].attr = commit_data(*batch[i]);
      } catch (...) {
        out[i].error = std::current_exception();
      }
    }
    return out;
  }
  // The recorded tokens among `token_ids` (at most kSweepBatch; invalid past that), in no
  // particular order; unknown ids are left out, expired tokens not yet swept are included.
  // Read-only.
  virtual std::vector<TokenInfo> find_tokens(const std::vector<uint64_t>& token_ids) = 0;
  // The current data of inode `ino`, which token `token_id` has open: attributes, the
  // inline bytes or the chunks, a write target for write tokens, and the token's recorded
  // fields (no new token). bad_token unless the token exists and names `ino`;
  // token_expired when it has expired. Read-only.
  virtual OpenResult data_map(uint64_t ino, uint64_t token_id) = 0;

  virtual StatfsInfo statfs() = 0;
  // Makes every change committed before it durable (namespace changes may commit
  // without waiting for the disk: doc/durability.md). For fsync and fsyncdir.
  virtual void sync() = 0;

  // ---- file servers
  // Upserts the server and its backends. exists when a name belongs to another UUID.
  // Returns up to 1000 objects the server should delete.
  virtual std::vector<ObjectAddr> register_server(const ServerReport& report) = 0;
  // Like register_server for a known server (not_found otherwise); also removes the
  // confirmed deletions.
  virtual std::vector<ObjectAddr> heartbeat(const ServerReport& report) = 0;
  // Servers and their backends (a small table; no counting).
  virtual std::vector<ServerState> servers() = 0;

  // ---- admin and housekeeping
  virtual ClusterInfo cluster_info() = 0;
  // Walks an absolute path ("/" is the root) and describes the file it names.
  virtual FileInfoResult file_info(std::string_view path) = 0;
  // Deletes expired tokens and reclaims orphans (nlink 0) that no token keeps alive.
  virtual SweepResult sweep() = 0;
};

}  // namespace zhsm
