// OpenInode: the data state of one file while this mount has it open, shared by
// every handle of that inode (doc/architecture.md, "Data path"). It holds the
// size, the inline bytes or the chunk list from the open reply, the tokens of
// the handles, the write sessions per chunk on the file servers, and what has
// been committed on file servers but not yet recorded by the controller.
//
// Thread-safety: every public method may be called from any FUSE worker. Reads
// take mu_ shared; writes, commits, truncates and adopt take it exclusively.
// Lock order: append_mu_ before mu_ before own_mu_ before token_mu_; token_mu_ is never
// held across a call.
//
// Tokens: a handle opened for reading an inline file may have none (the open asked for
// inlineWithoutToken; its bytes are all here). When something then needs one (a lock,
// a refresh of the data map), the inode opens a read token for itself; and when the
// last handle with a token closes while tokenless ones remain, the inode keeps that
// token instead of releasing it. Either is the inode's own token, released with the
// last handle (take_own_token).
// Errors are thrown as zhsm::Error: data failures are logged here once (ino,
// uuid, server) and thrown as io (or no_space).
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "client-fuse/attr.h"
#include "client-fuse/controller_link.h"
#include "client-fuse/server_links.h"
#include "client-fuse/token_copy.h"
#include "client-fuse/write_pipeline.h"
#include "common/uuid.h"

namespace zhsm::fuse {

// Cluster geometry from the hello reply.
struct Geometry {
  uint64_t chunk_size = 16 << 20;
  uint64_t inline_max = 64 << 10;
  uint64_t token_lifetime_ms = 300000;
};

// What an OpenInode needs from the mount. Outlives every OpenInode.
struct DataContext {
  ControllerLink& controller;
  ServerLinks& servers;
  Geometry geometry;
};

class OpenInode {
 public:
  OpenInode(DataContext& ctx, uint64_t ino) : ctx_(ctx), ino_(ino) {}
  OpenInode(const OpenInode&) = delete;
  OpenInode& operator=(const OpenInode&) = delete;

  uint64_t ino() const { return ino_; }

  // Takes the token of an open reply, and its view of the data when nothing is
  // pending locally (close-to-open: a new open sees what others committed) or
  // when `reset` (the open truncated the file: local pending changes are void).
  void adopt(proto::OpenReply::Reader reply, bool reset);
  // Forgets a handle's token (after its release was decided).
  void forget_token(uint64_t token_id);
  // At the release of a handle with token `token_id` while other handles remain: when it
  // is the inode's only token, the inode keeps it as its own (true: do not release it
  // now), so the tokenless handles left keep the file and its data map.
  bool keep_token(uint64_t token_id);
  // After the last handle went away: the inode's own token (0: none), forgotten here;
  // the caller releases it. No token is taken or kept after this.
  uint64_t take_own_token();
  // The token a handle with `token_id` (0: none) names in lock requests: its own, else
  // any of the inode's, else one the inode opens for itself (throws when that fails).
  uint64_t lock_token(uint64_t token_id);
  // Some token of this inode that allows writing, if any (0: none).
  uint64_t write_token();

  // Bytes [offset, offset+length) clipped to the file size, holes as zeros, into `out`
  // (room for `length` bytes; nothing past the returned count is written). Returns the
  // count.
  uint64_t read(uint64_t token_id, uint64_t offset, uint64_t length, char* out);
  // Writes at `offset`, or with `append` at the end of the file as the cluster knows it
  // (append() below); returns the bytes written (all of them, or it throws).
  uint64_t write(uint64_t token_id, uint64_t offset, const char* data, uint64_t length,
                 bool append, const std::function<bool()>& interrupted = {});
  // One O_APPEND write, atomic across the cluster (open_inode_append.cc): under the
  // cluster's append lock for this inode, commits what is pending, refreshes the data
  // map, writes at the end and commits. `interrupted` is polled while another mount holds
  // the lock (throws Interrupted when it answers true).
  uint64_t append(uint64_t token_id, const char* data, uint64_t length,
                  const std::function<bool()>& interrupted);
  // Fresh attributes of the inode from the controller (getattr, lookup). When they show
  // a change made elsewhere (a size or mtime other than this view's) and nothing is
  // pending here, the next read refreshes the data map first (open_inode_refresh.cc).
  // Lock-free.
  void notice_attr(uint64_t size, int64_t mtime_ns);
  // Flush: commits every open write session on its file server, then records the
  // result with the controller (commitData). Returns only when both are done.
  // A failure of an earlier background commit (commit_if_idle) is reported here.
  // Nothing to do when nothing changed. `token_id` must allow writing, or another
  // write token of the inode is used. Returns whether there was something to record
  // (then the controller's synchronous commit made it durable).
  bool commit(uint64_t token_id);
  // Fills a setattr (without a size) that the controller applies right after the commit.
  using SetattrFill = std::function<void(proto::Setattr::Builder)>;
  // commit() carrying `then` in the same controller call (commitData's thenSetattr).
  // Returns the attributes after both, or nullopt when the setattr was not applied: there
  // was nothing to commit, or the combined call failed and the commit alone then
  // succeeded; the caller sends the setattr itself and gets its own answer.
  std::optional<struct stat> commit_then(uint64_t token_id, const SetattrFill& then);
  // A change of mode or of explicit times held back until the next commit. While this
  // mount has writes of a file not yet committed, such a change travels with them, in
  // the commit's call (thenSetattr): other mounts see the data and the attributes
  // together, at the close, fsync or idle commit, as they would have seen the data
  // alone. `cp -a`'s utimensat and fchmod of each file cost no call of their own then.
  struct HeldAttr {
    SetattrArgs change;    // mode (never setuid or setgid) and explicit times only
    int64_t ctime_ns = 0;  // when last held: the ctime shown here
  };
  // Holds `a` (merged over what is held) at `now_ns` when changes are pending here and
  // what is held is the same caller's: true. False: nothing pending, or another caller's
  // change is held; the caller then sends its setattr itself (after commit() when
  // held_attr()).
  bool hold_attr(const SetattrArgs& a, int64_t now_ns);
  // What is held, if anything (takes held_mu_ only).
  std::optional<HeldAttr> held_attr() const;
  // Records attributes fresh from the controller (mode, owner, times, link count) as
  // the base of what last_stat() answers while changes are held.
  void note_stat(const struct stat& st);

  // After the controller cut the file to `size`: clips or extends the local view,
  // rewrites the chunk the cut falls into (so its stored SHA-256 is right) and
  // commits.
  void truncate(uint64_t token_id, uint64_t size);
  // Abandons open write sessions (best effort): the last handle went away with
  // uncommitted data after a failed commit.
  void abandon();

  // The attributes of the last open reply adopted, with this view's size and mtime (the
  // pending ones are Mount::overlay's).
  struct stat last_stat();

  // The inode version whose data the kernel's page cache holds for this file:
  // the version of the last open reply this state adopted, or of the last
  // commit made here. Lock-free.
  uint64_t cache_version() const { return cache_version_.load(); }

  // True while changes are not yet committed. Lock-free.
  bool dirty() const { return dirty_shown_.load(); }
  // The size as this mount knows it, while changes are pending; lock-free.
  std::optional<uint64_t> pending_size() const;
  // The time of the last local change, while changes are pending; lock-free. It
  // becomes the file's mtime at the next commit.
  std::optional<int64_t> pending_mtime() const;

  // Renews every token of this inode with the controller (errors are logged).
  void renew_tokens();
  // Commits (errors logged) when changes are pending and the last one is older
  // than `idle_ns`. Does not wait for a busy inode.
  void commit_if_idle(int64_t idle_ns);

 private:
  struct Copy {
    Uuid backend;
    std::string address;
  };
  struct Chunk {
    Uuid uuid;
    uint64_t version = 0;
    uint64_t size = 0;
    std::vector<Copy> copies;  // current copies only
  };
  struct Session {
    std::shared_ptr<RpcClient> link;
    uint64_t id = 0;
    Uuid backend;
    Uuid uuid;
    uint64_t length = 0;  // bytes of the session's object as written so far
    WritePipeline pipe{kWriteWindow};  // pieces on their way to the file server
  };
  // Bytes of one session in flight before a write waits (8 pieces of 1 MiB).
  static constexpr uint64_t kWriteWindow = 8 << 20;
  struct Update {
    Uuid uuid;
    uint64_t version = 0;
    uint64_t size = 0;
    std::string sha256;
    Uuid backend;
  };
  using TokenFill = std::function<void(proto::Request::Builder, const TokenCopy&)>;

  // Token handling (take token_mu_ briefly). For reads, without any token here, opens
  // the inode's own (open_own_token).
  TokenCopy token_for(uint64_t token_id, bool write);
  const TokenCopy* find_token_locked(uint64_t token_id, bool write);  // requires token_mu_
  TokenCopy open_own_token();
  void renew(uint64_t token_id);
  // One file-server call under a token; on token_expired renews and retries once.
  Reply server_call(RpcClient& link, uint64_t token_id, bool write, const TokenFill& fill);
  [[noreturn]] void data_failure(const char* op, Errc code, const std::string& message,
                                 const Uuid& uuid, const std::string& server);
  // What a data failure reaches the caller as: no_space when a disk was full, else io.
  static Errc data_errc(Errc code) {
    return code == Errc::no_space ? Errc::no_space : Errc::io;
  }

  // The cluster's append lock of this inode (open_inode_append.cc); take polls with
  // backoff while another mount holds it.
  void take_append_lock(uint64_t token_id, const std::function<bool()>& interrupted);
  void drop_append_lock(uint64_t token_id);
  // Refreshes the view when notice_attr() found it stale and nothing is pending; takes
  // mu_ exclusively. Failures are logged: the read goes on with the view it has.
  void refresh_if_stale(uint64_t token_id);

  // All below: require mu_ (shared for reads, exclusive otherwise).
  // The data map of an open reply or a dataMap answer (nothing may be pending).
  void load_view(proto::OpenReply::Reader reply);
  void take_write_target(proto::OpenReply::Reader reply);
  // Asks the controller for the current data map (dataMap) and loads it.
  void refresh_locked(uint64_t token_id);
  uint64_t write_locked(uint64_t token_id, uint64_t offset, const char* data, uint64_t length);
  // Fills all of out[0, length): the bytes read, zeros for holes and past the chunk's end.
  void read_piece(uint64_t token_id, uint64_t index, uint64_t chunk_offset, uint64_t length,
                  char* out);
  uint64_t read_object(RpcClient& link, uint64_t token_id, const Uuid& backend, const Uuid& uuid,
                       uint64_t offset, uint64_t length, uint64_t session_id, char* out,
                       Errc& error, std::string& message);
  void write_chunks(uint64_t token_id, uint64_t offset, const char* data, uint64_t length);
  Session& ensure_session(uint64_t token_id, uint64_t index);
  void convert_to_chunks(uint64_t token_id);
  void drop_session(const Session& s);
  // A file server lost bytes that write() had accepted for chunk `index` (its write
  // session failed: a full disk, a server gone; the session is dropped by the caller).
  // The file may then claim no byte of that chunk beyond what the chunk held at its last
  // commit: the next commit records at most that size (lost_cut_), never one that covers
  // bytes no server holds, which would read back as zeros. What the file had committed
  // before stays. `report`: the next flush, fsync or close fails with the loss
  // (deferred_error_); a commit that finds the loss itself throws it instead.
  void lose_chunk_locked(uint64_t index, Errc code, bool report);
  // A write or drain of chunk `index`'s session failed with `e`: drops the session,
  // notes the loss (reported at the next flush) and throws the failure.
  [[noreturn]] void session_failed_locked(uint64_t index, const Error& e);
  // The size the next commit records: size_, cut below lost bytes (lose_chunk_locked)
  // but never below what the controller has.
  uint64_t recordable_size_locked() const;
  // With `then`: also the setattr, its resulting attributes in *then_attr (left empty
  // when the combined call failed and the commit was repeated alone).
  void commit_locked(uint64_t token_id, const SetattrFill* then = nullptr,
                     std::optional<struct stat>* then_attr = nullptr);
  // commit_locked(), then the failure of an earlier background commit, if any (mu_ held).
  void commit_reporting(uint64_t token_id, const SetattrFill* then,
                        std::optional<struct stat>* then_attr);
  void publish();  // refreshes the lock-free copies
  // A local change of the bytes: pending from now, mtime now. An explicit mtime held from
  // before is void (the write came after it; the kernel flushes a file's pages before
  // it sends a utimensat).
  void touch_locked();
  // Sends what is held as a setattr of its own (the commit that should have carried it
  // had nothing to record, or refused the pair) and forgets it; throws its refusal.
  void send_held_locked(uint64_t token_id);

  DataContext& ctx_;
  const uint64_t ino_;

  std::shared_mutex mu_;  // guards everything down to tokens
  bool inline_ = true;
  std::string inline_data_;  // when inline_: exactly size_ bytes
  uint64_t size_ = 0;
  std::map<uint64_t, Chunk> chunks_;
  std::map<uint64_t, Session> sessions_;
  std::map<uint64_t, Update> pending_;  // committed on file servers, not yet with the controller
  std::optional<Copy> write_target_;
  std::vector<Copy> write_targets_;  // striped: new chunk i goes to [i mod n]; empty = write_target_
  bool dirty_ = false;
  bool drop_inline_ = false;
  int64_t mtime_ns_ = 0;  // time of the last local change
  std::optional<Errc> deferred_error_;  // a background commit failed, or accepted bytes were
                                        // lost: the next flush reports it
  std::optional<uint64_t> lost_cut_;    // the next commit records no size past this
  mutable std::mutex held_mu_;  // guards held_; changed with mu_ held too
  std::optional<HeldAttr> held_;

  std::atomic<bool> dirty_shown_{false};
  std::atomic<uint64_t> cache_version_{0};
  std::atomic<uint64_t> size_shown_{0};
  std::atomic<int64_t> mtime_shown_{0};
  // The size and mtime the controller had when this view was loaded or last committed,
  // and whether fresher attributes showed that another mount changed the file since.
  std::atomic<uint64_t> view_size_{0};
  std::atomic<int64_t> view_mtime_ns_{0};
  std::atomic<bool> stale_{false};

  // One O_APPEND write of this inode at a time in this mount, held while waiting for the
  // cluster's append lock. Lock order: append_mu_ before mu_.
  std::mutex append_mu_;

  std::mutex stat_mu_;  // guards last_stat_
  struct stat last_stat_ {};
  std::mutex own_mu_;  // one open of an own token at a time; held across that call
  std::mutex token_mu_;  // guards tokens_, own_token_, closed_
  std::map<uint64_t, TokenCopy> tokens_;
  uint64_t own_token_ = 0;  // in tokens_ too; 0: none
  bool closed_ = false;     // the last handle went away (take_own_token)
};

}  // namespace zhsm::fuse
