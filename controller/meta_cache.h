// A write-through cache in front of the metadata store: lookup, getattr and getxattr
// are answered from memory when the answer is known, without a database round trip.
//
// Why it is safe: the controller is the only writer of the metadata (every change is a
// call on this object), so a change can forget or replace exactly the entries it makes
// stale. Reads and writes run on many threads at once; an epoch counter keeps a slow
// reader from putting back what a change has just made stale:
//   - every change, after the store committed it, forgets the entries it affected and
//     advances the epoch, under the cache's lock;
//   - a read that missed notes the epoch before asking the store, and keeps its answer
//     only if the epoch has not moved since; a change keeps its own result the same way.
// So an entry is either put in with no change completed during its read, or forgotten
// by the change that raced it. A change whose outcome is unknown (the database went away
// during commit) empties the whole cache.
//
// Inline bytes: the bytes of small files by inode, each with the inode version (and FSID)
// they belong to, learnt from opens and from commits that set them. Such a pair stays
// true forever (every change of a file's data bumps its version), so it needs no
// forgetting: it answers a read-only open that asked for no token
// (OpenArgs::inline_without_token) only while the cached attributes show that same version,
// and the least recently used go first when the bytes held pass a budget.
//
// What is cached: attributes by inode (never of an inode without links, which may be
// reclaimed at any release), names in directories (positive and negative), and extended
// attributes by inode and name (present or absent). An inode made through the cache is
// known to have no xattrs, and a directory made through it to be complete (a name not
// held is absent) until one of its names is evicted or a change could not be kept: so
// creating files in a new directory asks the database nothing but the changes. Each
// map is bounded (least recently used first out), so memory does not grow with the
// number of files.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "controller/lru_map.h"
#include "controller/meta_store.h"

namespace zhsm {

class Metrics;

struct MetaCacheOptions {
  size_t attrs = 32768;     // inodes whose attributes are kept
  size_t entries = 32768;   // directory entries (name -> inode, or known absent)
  size_t xattrs = 8192;     // extended attributes (present or known absent); also bounds
                            // the inodes known to have none and the complete directories
  size_t max_xattr_value = 4096;  // longer values are not kept
  size_t inline_files = 32768;         // files whose inline bytes are kept
  size_t inline_bytes = 64 << 20;      // at most this many inline bytes in all
};

class CachingMetaStore : public MetaStore {
 public:
  CachingMetaStore(std::unique_ptr<MetaStore> inner, MetaCacheOptions options = {});

  MetaStore& inner() { return *inner_; }

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t entries = 0;  // attributes + names + xattrs held now
    uint64_t inline_files = 0;  // files whose inline bytes are held
    uint64_t inline_bytes = 0;
  };
  Stats stats() const;
  // Declares the cache's metrics in `metrics` and fills them at every scrape; the cache
  // must outlive `metrics`' scrapes.
  void expose(Metrics& metrics);
  // Forgets everything held: the database may have lost changes the cache saw (a
  // restarted PostgreSQL loses what was committed without a flush). Thread-safe.
  void forget_everything();

  const Settings& settings() const override { return inner_->settings(); }
  uint64_t add_client(const std::string& name) override { return inner_->add_client(name); }
  void touch_client(uint64_t client_id) override { inner_->touch_client(client_id); }
  bool clients_seen_since(int64_t since_ms) override { return inner_->clients_seen_since(since_ms); }
  bool resume_client(uint64_t client_id, const std::string& name) override {
    return inner_->resume_client(client_id, name);
  }

  InodeAttr lookup(uint64_t parent, std::string_view name) override;
  InodeAttr getattr(uint64_t ino) override;
  std::optional<InodeAttr> peek_lookup(uint64_t parent, std::string_view name) override;
  std::optional<InodeAttr> peek_getattr(uint64_t ino) override;
  std::optional<OpenResult> peek_open(const OpenArgs& args) override;
  std::optional<std::string> peek_getxattr(uint64_t ino, std::string_view name) override;
  InodeAttr setattr(const SetattrArgs& args) override;
  NodeResult mknod(const NodeArgs& args) override;
  NodeResult mkdir(const NodeArgs& args) override;
  NodeResult symlink(const NodeArgs& args) override;
  NodeResult link(uint64_t ino, uint64_t new_parent, std::string_view new_name) override;
  RemoveResult unlink(uint64_t parent, std::string_view name) override;
  RemoveResult rmdir(uint64_t parent, std::string_view name) override;
  RenameResult rename(const RenameArgs& args) override;
  std::string readlink(uint64_t ino) override { return inner_->readlink(ino); }
  DirPage readdir(uint64_t ino, uint64_t after, uint32_t max_entries) override;

  void setxattr(uint64_t ino, std::string_view name, std::string_view value, bool create,
                bool replace) override;
  std::string getxattr(uint64_t ino, std::string_view name) override;
  std::vector<std::string> listxattr(uint64_t ino) override { return inner_->listxattr(ino); }
  void removexattr(uint64_t ino, std::string_view name) override;

  OpenResult open(const OpenArgs& args) override;
  OpenResult create(const CreateArgs& args) override;
  // A release may reclaim an unlinked inode; such inodes are never cached.
  void release(uint64_t token_id) override { inner_->release(token_id); }
  void release_many(const std::vector<uint64_t>& token_ids) override {
    inner_->release_many(token_ids);
  }
  TokenInfo renew_token(uint64_t token_id) override { return inner_->renew_token(token_id); }
  InodeAttr commit_data(const CommitArgs& args) override;
  std::vector<CommitOutcome> commit_data_batch(const std::vector<const CommitArgs*>& batch) override;
  std::vector<TokenInfo> find_tokens(const std::vector<uint64_t>& token_ids) override {
    return inner_->find_tokens(token_ids);
  }
  OpenResult data_map(uint64_t ino, uint64_t token_id) override {
    return inner_->data_map(ino, token_id);
  }
  StatfsInfo statfs() override { return inner_->statfs(); }
  void sync() override { inner_->sync(); }

  std::vector<ObjectAddr> register_server(const ServerReport& report) override {
    return inner_->register_server(report);
  }
  std::vector<ObjectAddr> heartbeat(const ServerReport& report) override {
    return inner_->heartbeat(report);
  }
  std::vector<ServerState> servers() override { return inner_->servers(); }
  ClusterInfo cluster_info() override { return inner_->cluster_info(); }
  FileInfoResult file_info(std::string_view path) override { return inner_->file_info(path); }
  // Reclaims only inodes without links (never cached) and drops tokens.
  SweepResult sweep() override { return inner_->sweep(); }

 private:
  struct EntryKey {
    uint64_t parent;
    std::string name;
    bool operator==(const EntryKey&) const = default;
  };
  struct EntryHash {
    size_t operator()(const EntryKey& k) const;
  };
  using XattrKey = EntryKey;  // inode, attribute name

  // Under mu_: keeps `attr` unless the inode has no links.
  void keep_attr(const InodeAttr& attr);
  // Under mu_: an inode a change just made. At version 1 it has never changed, so it has
  // no xattrs and, for a directory, no entries.
  void keep_new(const InodeAttr& attr);
  // Under mu_: the directories a change touched, as it left them.
  void keep_dirs(const TouchedDirs& dirs);
  // Under mu_: sets or forgets a name; a directory stays complete only while every name
  // in it is held.
  void put_name(const EntryKey& key, uint64_t ino);
  void drop_name(const EntryKey& key);
  void clear();
  // Under mu_: the bytes of an inline file at `attr` (its version and FSID).
  void keep_inline(const InodeAttr& attr, std::string bytes);
  // Under mu_: the inline bytes a successful commit `args` left at `attr`, when it set them.
  void keep_committed_inline(const CommitArgs& args, const InodeAttr& attr);
  // Under mu_: the answer to `args` (a read-only open that asked for no token) from
  // memory, when the attributes are cached and the inline bytes held are of their version.
  std::optional<OpenResult> open_from_memory(const OpenArgs& args);

  uint64_t epoch() const;
  // Runs `keep` under the lock if no change completed since `since`.
  void keep_if_unchanged(uint64_t since, const std::function<void()>& keep);
  // After a change that started at epoch `since`: runs `update` under the lock, telling
  // it whether no other change completed meanwhile (only then may it keep its results),
  // and advances the epoch.
  void changed(uint64_t since, const std::function<void(bool alone)>& update);
  // Runs the change `fn`; when it throws, forgets `forget` (or everything, when the
  // outcome is unknown) before rethrowing.
  template <class F>
  auto run_change(F&& fn, const std::function<void()>& forget) -> decltype(fn());
  // setattr, open with truncation, commitData: `change` changes inode `ino` only and
  // returns its attributes (or an OpenResult holding them).
  template <class F>
  auto change_attrs(uint64_t ino, F&& change) -> decltype(change());
  // mknod, mkdir and symlink: `make` adds args.name in args.parent.
  template <class F>
  NodeResult add_node(const NodeArgs& args, F&& make);
  // unlink and rmdir: `remove` removes the name and returns its inode.
  RemoveResult remove_name(uint64_t parent, std::string_view name,
                           const std::function<RemoveResult()>& remove);

  std::unique_ptr<MetaStore> inner_;
  const MetaCacheOptions options_;
  mutable std::mutex mu_;
  uint64_t epoch_ = 0;
  LruMap<uint64_t, InodeAttr> attrs_;
  LruMap<EntryKey, uint64_t, EntryHash> entries_;  // 0: known absent
  LruMap<XattrKey, std::optional<std::string>, EntryHash> xattrs_;
  LruMap<uint64_t, bool> bare_;           // inodes known to have no xattrs
  LruMap<uint64_t, bool> complete_dirs_;  // directories all of whose names are in entries_
  struct InlineBytes {
    Uuid fsid;
    uint64_t version = 0;
    std::string bytes;
  };
  LruMap<uint64_t, InlineBytes> inline_;  // never full: keep_inline evicts first
  size_t inline_held_ = 0;                // bytes in inline_
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace zhsm
