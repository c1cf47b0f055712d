// The building blocks of namespace and data changes inside one PostgreSQL transaction:
// load and lock inodes, add and remove directory entries, touch directory times and link
// counts, drop or clip data chunks (queueing their copies for deletion) and reclaim inodes
// that lost their last link and last token. Every pg_*.cc operation composes these.
// Not thread-safe: one InodeTxn lives inside one transaction on one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <pqxx/connection>
#include <pqxx/transaction>

#include "controller/meta_types.h"

namespace zhsm {

// Prepares the statements InodeTxn uses.
void prepare_inode_statements(pqxx::connection& conn);

// A select-list item that turns synchronous commit off for the rest of the transaction
// when the statement returns a row (see InodeTxn::relax_durability); its value is "off".
inline constexpr std::string_view kRelaxColumn = "set_config('synchronous_commit', 'off', true)";

struct InodeRow {
  InodeAttr attr;
  uint64_t parent = 0;  // directories: the parent directory

  bool is_dir() const { return attr.type == proto::FileType::DIRECTORY; }
};

class InodeTxn {
 public:
  InodeTxn(pqxx::work& tx, const Settings& settings, int64_t now_ns)
      : tx_(tx), settings_(settings), now_ns_(now_ns) {}

  pqxx::work& tx() { return tx_; }
  // This transaction's commit does not wait for its WAL to reach the disk: namespace
  // changes and token rows (doc/durability.md). A later synchronous commit (commitData,
  // sync, a heartbeat) flushes the WAL up to itself, so every earlier relaxed commit is
  // durable with it; PostgreSQL's WAL writer flushes them within wal_writer_delay
  // anyway. Deletions reach file servers only through a heartbeat, whose synchronous
  // commit comes after the change that queued them: no object is deleted for a change
  // a crash could still undo.
  // Costs no round trip of its own when an inode is read (find, get, dir) before the
  // commit: that statement carries the setting (kRelaxColumn); otherwise
  // before_commit() sends it.
  void relax_durability() { relax_pending_ = true; }
  // A statement with kRelaxColumn in its select list returned a row: the setting is in
  // effect for this transaction.
  void mark_relaxed() { relax_pending_ = false; }
  // Runs just before the commit: sends the relaxed durability setting if no statement
  // carried it.
  void before_commit();
  const Settings& settings() const { return settings_; }
  int64_t now_ns() const { return now_ns_; }
  int64_t now_ms() const { return now_ns_ / 1000000; }

  // The inode, or nullopt. With `lock` the row is locked (FOR UPDATE) until commit.
  std::optional<InodeRow> find(uint64_t ino, bool lock);
  // The inode; Error(not_found) naming `what` ("inode", "parent directory") otherwise.
  InodeRow get(uint64_t ino, bool lock, std::string_view what = "inode");
  // A directory; not_found or not_dir otherwise.
  InodeRow dir(uint64_t ino, bool lock, std::string_view what = "directory");

  // The inode an entry names, or nullopt.
  std::optional<uint64_t> entry(uint64_t parent, std::string_view name);

  // Looks up `name` in directory `parent` and, when no entry has it, inserts a new regular
  // file (version 1, all times now, nlink 1) with that entry and touches the directory
  // (touch_dir(parent, 0)), all in one statement. The caller holds the directory's lock
  // (dir(parent, true)), as every transaction adding an entry does, so the name cannot
  // be taken in between. Returns the new inode, or nullopt with `existing` set to the
  // inode the name already names.
  std::optional<InodeRow> insert_file(uint32_t mode, uint32_t uid, uint32_t gid,
                                      uint64_t parent, std::string_view name,
                                      uint64_t& existing);
  void add_entry(uint64_t parent, std::string_view name, uint64_t ino);
  void remove_entry(uint64_t parent, std::string_view name);

  // A directory's entries changed: mtime = ctime = now, version + 1, nlink + delta.
  // The directory's new attributes join touched_dirs().
  void touch_dir(uint64_t ino, int nlink_delta);
  // insert_file made a file in `parent` (its row as locked before): notes the touch
  // that statement made.
  void insert_file_touched(InodeAttr parent);
  // The directories touched so far, with their attributes after the last touch.
  const TouchedDirs& touched_dirs() const { return touched_dirs_; }
  // An inode's metadata changed: ctime = now, version + 1, nlink + delta. Returns the new nlink.
  int64_t touch_inode(uint64_t ino, int nlink_delta);
  // Removes one link of a non-directory (or the only one of a directory when
  // `whole_dir`) and reclaims the inode if nothing keeps it.
  void drop_link(uint64_t ino, bool whole_dir);
  // Reclaims the inode if its nlink is 0 and no token refers to it (its xattrs, its chunks
  // with their copies queued for deletion, the inode; zhsm_reclaim_if_unused, one round
  // trip). Returns whether it did.
  bool reclaim_if_unused(uint64_t ino);

  // Queues the copies of chunks with index >= first_index for deletion and drops the chunks.
  void drop_chunks_from(uint64_t ino, uint64_t first_index);
  // Makes the chunk layout fit a file of `size` bytes: drops chunks at or past it and clips
  // the last one (its SHA-256 becomes unknown).
  void fit_chunks(uint64_t ino, uint64_t size);
  // Whether the file has any chunk rows.
  bool has_chunks(uint64_t ino);

 private:
  void note_touched(const InodeAttr& dir);

  pqxx::work& tx_;
  const Settings& settings_;
  const int64_t now_ns_;
  bool relax_pending_ = false;
  TouchedDirs touched_dirs_;
};

}  // namespace zhsm
