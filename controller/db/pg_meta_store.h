// The PostgreSQL engine of the metadata interface. Each MetaStore call is one transaction
// on a pooled connection (TxnRunner: retries, error mapping), composed from InodeTxn
// building blocks. The implementation is split by concern: pg_namespace.cc (lookup,
// create, link, unlink, readdir), pg_rename.cc, pg_setattr.cc (attributes, xattrs),
// pg_open.cc (open, tokens, commitData, sweeping), pg_servers.cc (clients, file servers,
// statfs, cluster status, file info), pg_sessions.cc (client resumption, token lookup and
// the data map of an open file, for locks and appends), pg_chains.cc (file resolve chains
// and copy rows: PlacementStore).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include <pqxx/connection>
#include <pqxx/result>

#include "controller/db/connection_pool.h"
#include "controller/db/inode_txn.h"
#include "controller/store_options.h"
#include "controller/db/pg_txn.h"
#include "controller/meta_store.h"
#include "controller/placement_store.h"

namespace zhsm {

class PgMetaStore : public MetaStore, public PlacementStore {
 public:
  // Prepares every statement the store uses; give it to the ConnectionPool as its setup.
  static void prepare(pqxx::connection& conn);

  // `pool` must outlive the store; its connections must have been set up with prepare().
  PgMetaStore(ConnectionPool& pool, Settings settings, StoreOptions options);
  // The same, owning the pool.
  PgMetaStore(std::unique_ptr<ConnectionPool> pool, Settings settings, StoreOptions options);
  ConnectionPool& pool() { return runner_.pool(); }

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
  std::vector<CommitOutcome> commit_data_batch(const std::vector<const CommitArgs*>& batch) override;
  std::vector<TokenInfo> find_tokens(const std::vector<uint64_t>& token_ids) override;
  OpenResult data_map(uint64_t ino, uint64_t token_id) override;
  StatfsInfo statfs() override;
  void sync() override;

  std::vector<ObjectAddr> register_server(const ServerReport& report) override;
  std::vector<ObjectAddr> heartbeat(const ServerReport& report) override;
  std::vector<ServerState> servers() override;

  ClusterInfo cluster_info() override;
  FileInfoResult file_info(std::string_view path) override;
  SweepResult sweep() override;

  // PlacementStore (pg_chains.cc)
  std::vector<ChainRow> chains() override;
  void create_chain(const std::string& name, uint32_t copies, uint32_t stripe,
                    uint32_t ack) override;
  void set_chain_numbers(const std::string& name, std::optional<uint32_t> copies,
                         std::optional<uint32_t> stripe, std::optional<uint32_t> ack) override;
  void set_chain_rules(const std::string& name, const std::vector<std::string>& expected,
                       const std::vector<std::string>& rules) override;
  void delete_chain(const std::string& name) override;
  void set_dir_chain(uint64_t ino, const std::string& chain) override;
  std::string path_of(uint64_t ino) override;
  std::vector<PlacementFile> placement_files(uint64_t after, uint32_t limit,
                                             int64_t accesses_since_hour) override;
  std::optional<PlacementFile> placement_file(uint64_t ino, int64_t accesses_since_hour) override;
  void add_accesses(const std::vector<std::pair<uint64_t, uint64_t>>& ino_counts, int64_t hour,
                    int64_t forget_before_hour) override;
  bool want_copy(const Uuid& uuid, const Uuid& backend) override;
  bool copy_made(const Uuid& uuid, const Uuid& backend, uint64_t version,
                 const std::string& sha256) override;
  bool drop_copy(const Uuid& uuid, const Uuid& backend) override;
  bool copy_corrupt(const Uuid& uuid, const Uuid& backend) override;
  void set_server_mode(const std::string& name, std::optional<bool> maintenance,
                       std::optional<bool> draining) override;

 private:
  int64_t now_ns() const;

  // Runs fn(InodeTxn&) as one transaction (see TxnRunner::run).
  template <class F>
  auto txn(std::string_view op, F&& fn) {
    return runner_.run(op, [&](pqxx::work& tx) {
      InodeTxn t(tx, settings_, now_ns());
      if constexpr (std::is_void_v<std::invoke_result_t<F&, InodeTxn&>>) {
        fn(t);
        t.before_commit();
      } else {
        auto result = fn(t);
        t.before_commit();
        return result;
      }
    });
  }

  // Runs fn(pqxx::nontransaction&) for work of one statement that only reads (see
  // TxnRunner::run): no BEGIN and COMMIT.
  template <class F>
  auto read_one(std::string_view op, F&& fn) {
    return runner_.run<pqxx::nontransaction>(op, std::forward<F>(fn));
  }

  NodeResult make_node(const NodeArgs& args, std::string_view op);
  // unlink (dir_only false) and rmdir.
  RemoveResult remove(uint64_t parent, std::string_view name, bool dir_only);
  // Adds a token for the inode (truncating it first if asked) and reads its layout;
  // `is_new`: the inode was inserted by this transaction (no chunks, no bytes).
  // commitData without chunk updates in one statement, or nullopt when a check failed.
  std::optional<InodeAttr> commit_small(const CommitArgs& args);
  // create of a new file in one statement without a transaction around it, or nullopt.
  std::optional<OpenResult> create_new(const CreateArgs& args);
  // open for reading only, in one statement without a transaction around it.
  OpenResult open_to_read(const OpenArgs& args);
  // A read-only open of an inline file answered without a token, or nullopt when the
  // file is not inline.
  std::optional<OpenResult> open_inline_without_token(const OpenArgs& args);
  OpenResult open_inode(InodeTxn& t, InodeRow row, proto::AccessMode mode, bool truncate,
                        uint64_t client_id, bool is_new = false);
  // Throws the error commitData gives for the token in columns col.. (ino, mode,
  // expires_at_ms) of r's first row; no row or a NULL ino: unknown token.
  static void check_commit_token(const CommitArgs& args, const pqxx::result& r, int col,
                                 int64_t now_ms);
  // The work of one commitData (already checked by check_commit) in transaction t.
  InodeAttr commit_in(InodeTxn& t, const CommitArgs& args);
  // A setattr without a size inside `t` (the attributes a commit sets; pg_setattr.cc).
  void set_attrs(InodeTxn& t, const SetattrArgs& args);
  void apply_chunk_update(InodeTxn& t, uint64_t ino, const ChunkUpdateArgs& update);
  void upsert_backends(InodeTxn& t, const ServerReport& report);
  std::vector<ObjectAddr> pending_deletions(InodeTxn& t, const Uuid& server);

  std::unique_ptr<ConnectionPool> owned_pool_;  // set by the owning constructor
  TxnRunner runner_;
  const Settings settings_;
  const StoreOptions options_;
};

// Statement preparation of each part (called by PgMetaStore::prepare).
void prepare_namespace_statements(pqxx::connection& conn);
void prepare_rename_statements(pqxx::connection& conn);
void prepare_setattr_statements(pqxx::connection& conn);
void prepare_open_statements(pqxx::connection& conn);
void prepare_server_statements(pqxx::connection& conn);
void prepare_session_statements(pqxx::connection& conn);
void prepare_layout_statements(pqxx::connection& conn);
void prepare_chain_statements(pqxx::connection& conn);

}  // namespace zhsm
