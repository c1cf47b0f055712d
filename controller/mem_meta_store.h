// The in-memory engine of the metadata interface: the same semantics as the PostgreSQL
// store (controller/db/pg_meta_store.h), kept in plain maps that mirror the tables of
// schema/001_initial.sql, so that services and handlers can be unit-tested without a
// database. The conformance suite (controller/conformance/) runs the same tests against
// both engines. One mutex guards everything; every call holds it from start to end, which
// makes each call one atomic "transaction" (checks come before changes, so a refused call
// changes nothing). Times come from StoreOptions::clock_ns, read once per call. The
// implementation is split by concern: mem_meta_store.cc (inode, entry and chunk building
// blocks), mem_namespace.cc (lookup, create, link, unlink, rename, readdir), mem_attrs.cc
// (setattr, xattrs), mem_files.cc (open, tokens, commitData, sweep), mem_servers.cc
// (clients, file servers, statfs, cluster status, file info), mem_sessions.cc (client
// resumption, token lookup and the data map of an open file, for locks and appends).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/meta_store.h"
#include "controller/placement.h"
#include "controller/store_options.h"

namespace zhsm {

class MemMetaStore : public MetaStore {
 public:
  // A store holding only the root directory (ino 1, mode 0755, owner 0:0, stamped with
  // the clock). A nil settings.cluster_id is replaced by a random one.
  MemMetaStore(Settings settings, StoreOptions options);

  const Settings& settings() const override { return settings_; }

  uint64_t add_client(const std::string& name) override;
  void touch_client(uint64_t client_id) override;
  bool clients_seen_since(int64_t since_ms) override;
  bool resume_client(uint64_t client_id, const std::string& name) override;

  InodeAttr lookup(uint64_t parent, std::string_view name) override;
  InodeAttr getattr(uint64_t ino) override;
  InodeAttr setattr(const SetattrArgs& args) override;
  NodeResult mknod(const NodeArgs& args) override;
  NodeResult mkdir(const NodeArgs& args) override;
  NodeResult symlink(const NodeArgs& args) override;
  NodeResult link(uint64_t ino, uint64_t new_parent, std::string_view new_name) override;
  RemoveResult unlink(uint64_t parent, std::string_view name) override;
  RemoveResult rmdir(uint64_t parent, std::string_view name) override;
  RenameResult rename(const RenameArgs& args) override;
  std::string readlink(uint64_t ino) override;
  DirPage readdir(uint64_t ino, uint64_t after, uint32_t max_entries) override;

  void setxattr(uint64_t ino, std::string_view name, std::string_view value, bool create,
                bool replace) override;
  std::string getxattr(uint64_t ino, std::string_view name) override;
  std::vector<std::string> listxattr(uint64_t ino) override;
  void removexattr(uint64_t ino, std::string_view name) override;

  OpenResult open(const OpenArgs& args) override;
  OpenResult create(const CreateArgs& args) override;
  void release(uint64_t token_id) override;
  void release_many(const std::vector<uint64_t>& token_ids) override;
  TokenInfo renew_token(uint64_t token_id) override;
  InodeAttr commit_data(const CommitArgs& args) override;
  std::vector<TokenInfo> find_tokens(const std::vector<uint64_t>& token_ids) override;
  OpenResult data_map(uint64_t ino, uint64_t token_id) override;
  StatfsInfo statfs() override;
  void sync() override {}  // nothing is on a disk

  std::vector<ObjectAddr> register_server(const ServerReport& report) override;
  std::vector<ObjectAddr> heartbeat(const ServerReport& report) override;
  std::vector<ServerState> servers() override;

  ClusterInfo cluster_info() override;
  FileInfoResult file_info(std::string_view path) override;
  SweepResult sweep() override;

  // How many rows the PostgreSQL tables would hold, for tests that check what the
  // interface does not show (the deletion queue, dropped chunks). Thread-safe.
  struct Counts {
    uint64_t inodes = 0;
    uint64_t chunks = 0;
    uint64_t copies = 0;
    uint64_t deletions = 0;
    uint64_t tokens = 0;
    uint64_t inline_files = 0;  // inodes with inline bytes stored (inline_data IS NOT NULL)
  };
  Counts counts() const;

 private:
  // One row of each "table"; the schema documents the fields.
  struct Inode {
    InodeAttr attr;
    uint64_t parent = 0;
    std::string symlink;
    std::optional<std::string> inline_data;
    std::map<std::string, std::string> xattrs;  // byte order, like bytea

    bool is_dir() const { return attr.type == proto::FileType::DIRECTORY; }
  };
  struct Entry {
    uint64_t ino = 0;
    uint64_t cookie = 0;
  };
  struct Dir {
    std::map<std::string, Entry, std::less<>> by_name;
    std::map<uint64_t, std::string> by_cookie;
  };
  struct Copy {
    proto::CopyState state = proto::CopyState::CURRENT;
    uint64_t version = 0;
  };
  struct Chunk {
    Uuid uuid;
    uint64_t version = 0;
    uint64_t size = 0;
    std::string sha256;
    std::map<Uuid, Copy> copies;  // by backend
  };
  struct Token {
    uint64_t ino = 0;
    uint64_t client_id = 0;
    proto::AccessMode mode = proto::AccessMode::READ;
    int64_t expires_ms = 0;
  };
  struct Client {
    std::string name;
    int64_t last_seen_ms = 0;
  };
  struct Server {
    std::string name;
    std::string address;
    int64_t last_heartbeat_ms = 0;
  };
  struct Backend {
    Uuid server;
    BackendReport report;
    int64_t updated_ms = 0;
  };
  using ChunkMap = std::map<uint64_t, Chunk>;  // by index

  // Locks mu_ and reads the clock for the call.
  std::unique_lock<std::mutex> begin() const;

  // Building blocks (mem_meta_store.cc). Every one requires mu_ held.
  int64_t now_ns() const { return op_now_ns_; }
  int64_t now_ms() const { return op_now_ns_ / 1000000; }
  Inode* find(uint64_t ino);
  Inode& get(uint64_t ino, std::string_view what = "inode");
  Inode& dir(uint64_t ino, std::string_view what = "directory");
  std::optional<uint64_t> entry(uint64_t parent, std::string_view name) const;
  Inode& insert_inode(proto::FileType type, uint32_t mode, uint32_t uid, uint32_t gid,
                      uint32_t nlink, uint64_t rdev, uint64_t parent, std::string_view symlink);
  void add_entry(uint64_t parent, std::string_view name, uint64_t ino, uint64_t cookie = 0);
  // Removes the entry and returns its cookie.
  uint64_t remove_entry(uint64_t parent, std::string_view name);
  bool has_entries(uint64_t dir_ino) const;
  void touch_dir(uint64_t ino, int nlink_delta);
  uint32_t touch_inode(uint64_t ino, int nlink_delta);
  void drop_link(uint64_t ino, bool whole_dir);
  bool reclaim_if_unused(uint64_t ino);
  bool has_tokens(uint64_t ino) const;
  // Removes a token row; returns its inode.
  uint64_t erase_token(std::map<uint64_t, Token>::iterator it);
  void drop_chunks_from(uint64_t ino, uint64_t first_index);
  void fit_chunks(uint64_t ino, uint64_t size);
  bool has_chunks(uint64_t ino) const;
  void enqueue_copies(const Chunk& chunk);
  std::vector<ChunkInfo> load_chunks(uint64_t ino) const;
  std::string load_inline(const Inode& inode) const;
  std::vector<BackendCandidate> backend_candidates() const;

  // Operation parts (requires mu_ held).
  NodeResult make_node(const NodeArgs& args, std::string_view op);
  OpenResult open_inode(Inode& inode, proto::AccessMode mode, bool truncate,
                        uint64_t client_id);
  void check_chunk_updates(const CommitArgs& args) const;
  void apply_chunk_update(uint64_t ino, const ChunkUpdateArgs& update);
  bool within(uint64_t ino, uint64_t ancestor);
  void upsert_backends(const ServerReport& report);
  std::vector<ObjectAddr> pending_deletions(const Uuid& server) const;
  std::vector<ServerState> servers_locked() const;

  const Settings settings_;
  const StoreOptions options_;

  mutable std::mutex mu_;
  // Everything below is guarded by mu_.
  mutable int64_t op_now_ns_ = 0;  // the clock at the start of the running call
  std::map<uint64_t, Inode> inodes_;
  std::map<uint64_t, Dir> dirs_;                                // every directory inode
  std::map<uint64_t, ChunkMap> chunks_;                         // by inode
  std::map<Uuid, std::pair<uint64_t, uint64_t>> chunk_owner_;  // object -> (ino, index)
  std::map<std::pair<Uuid, Uuid>, int64_t> deletions_;         // (backend, object) -> queued ms
  std::map<uint64_t, Token> tokens_;
  std::map<uint64_t, uint32_t> tokens_per_inode_;
  std::map<uint64_t, Client> clients_;
  std::map<Uuid, Server> servers_;
  std::map<Uuid, Backend> backends_;
  uint64_t next_ino_ = 2;
  uint64_t next_cookie_ = 3;  // 0..2 are "start", "." and ".."
  uint64_t next_token_ = 1;
  uint64_t next_client_ = 1;
};

}  // namespace zhsm
