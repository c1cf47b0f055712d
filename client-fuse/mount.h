// Mount: everything one zhsm-fuse mount owns, built by main() and reached by the
// FUSE handlers through the session's user data: the options, the cluster
// geometry from hello, the Asio thread with the controller and file-server
// links, the open-inode table, the token renewer and the metrics (with their
// endpoint when -o metrics= asks for one). It also holds the policy
// the handlers share: opening and releasing handles, setattr with truncation,
// and showing the locally pending size in attributes.
//
// Thread-safety: after start(), every method may be called from any FUSE worker.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "client-fuse/attr.h"
#include "client-fuse/controller_link.h"
#include "client-fuse/dir_leases.h"
#include "client-fuse/fresh_dirs.h"
#include "client-fuse/mount_options.h"
#include "client-fuse/open_table.h"
#include "client-fuse/release_batcher.h"
#include "client-fuse/server_links.h"
#include "client-fuse/statahead.h"
#include "client-fuse/xattr_cache.h"
#include "common/error.h"
#include "common/metrics.h"

namespace zhsm::fuse {

struct HelloInfo {
  uint64_t client_id = 0;
  Geometry geometry;
};

// Says hello to the controller on a connection of its own (before the mount, so
// an unreachable controller fails the command instead of the mount). Retries
// for a few seconds; throws zhsm::Error.
HelloInfo probe_controller(const std::string& address, const std::string& client_name);

class Mount {
 public:
  Mount(MountOptions options, HelloInfo hello, std::string client_name);
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  // Starts the Asio thread and the token renewer and says hello on the real
  // controller connection. Call after daemonizing (threads do not survive fork).
  void start();
  // Stops the threads and closes the links. Idempotent.
  void stop();
  // Makes every change this mount got an answer for durable in the controller's
  // database (fsync without data to commit, fsyncdir). Throws zhsm::Error.
  void sync();
  // Commits the open inode `ino` (0: every open inode) when it holds a change of mode or
  // times for its next commit (OpenInode::hold_attr): before an open, which the
  // controller checks against the mode, and before sync. Throws zhsm::Error.
  void commit_held(uint64_t ino);

  const MountOptions& options() const { return options_; }
  const Geometry& geometry() const { return hello_.geometry; }
  ControllerLink& controller() { return *controller_; }
  OpenTable& open_files() { return *open_files_; }
  // Extended attributes known absent, for the attribute timeout (xattr_cache.h).
  XattrCache& xattrs() { return xattrs_; }
  // Listings of directories whose names are looked up one after another (statahead.h).
  Statahead& statahead() { return statahead_; }
  // Attributes of directories this mount just changed, for the next getattr (fresh_dirs.h).
  FreshDirs& fresh_dirs() { return fresh_dirs_; }
  // Directories leased to this mount, with every name in them (dir_leases.h).
  DirLeases& dir_leases() { return dir_leases_; }

  // The mount's metrics (doc/operator-guide.md lists them): every FUSE request by
  // operation, with its time, and its failures by error code.
  Metrics& metrics() { return metrics_; }
  void count_request(const char* op, std::chrono::steady_clock::duration took) noexcept;
  void count_failure(const char* op, Errc code) noexcept;
  void count_known_missing() noexcept { known_missing_.fetch_add(1, std::memory_order_relaxed); }

  // A handle for an open reply (open or create of inode `ino`). Owned by the
  // caller until release_handle().
  FileHandle* open_handle(uint64_t ino, proto::OpenReply::Reader reply, bool truncated,
                          bool append);
  // Last close of a handle: commits what is pending (errors are logged, the
  // kernel ignores release errors), queues the token's release (release_batcher.h),
  // frees the handle.
  void release_handle(FileHandle* handle);

  // setattr; `via` is the handle of an ftruncate/futimens, or null. Returns the
  // new attributes.
  struct stat setattr(uint64_t ino, const SetattrArgs& args, FileHandle* via);

  // The attributes to show for `st` (fresh from the controller): the pending size and
  // the time of the last local change (as mtime, and as ctime when later) win while
  // this mount has uncommitted changes, and so do changes of mode and times held for
  // their commit. An open inode also learns from them that another mount changed the
  // file (OpenInode::notice_attr); with `fresh` (the controller's answer to this very
  // call, not a listing's) it also keeps them as the base of its held changes' answers.
  void overlay(struct stat& st, bool fresh = false);
  // The attributes of inode `ino` when this mount has it open and the controller no
  // longer knows it: a file read without a token (OpenInode::adopt) that was unlinked
  // and reclaimed. As last seen here, with no link; false when it is not open here.
  bool open_orphan_stat(uint64_t ino, struct stat& st);

 private:
  void truncate(uint64_t ino, const SetattrArgs& args, FileHandle* via);
  // The inode version whose data the kernel's page cache holds for a file no
  // longer open here (0: unknown), and recording it at the last close.
  uint64_t remembered_version(uint64_t ino);
  void remember_version(uint64_t ino, uint64_t version);
  static constexpr size_t kRememberedVersions = 1 << 16;
  static constexpr size_t kKnownXattrInodes = 1 << 16;
  static constexpr size_t kFreshDirs = 1 << 12;
  void renew_loop();
  void say_hello();
  void describe_metrics();
  void start_metrics();
  void send_releases(const std::vector<uint64_t>& tokens);
  // At most this many releases go in one call (options().release_delay_ms says how long
  // one waits for others).
  static constexpr size_t kReleaseBatch = 256;

  MountOptions options_;
  HelloInfo hello_;
  std::string client_name_;

  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread io_thread_;
  std::unique_ptr<ControllerLink> controller_;
  std::unique_ptr<ServerLinks> servers_;
  std::unique_ptr<DataContext> data_;
  std::unique_ptr<OpenTable> open_files_;
  std::unique_ptr<ReleaseBatcher> releases_;
  std::atomic<bool> links_closed_{false};  // stop() closed the links: nothing more is sent

  Metrics metrics_;
  RequestStats fuse_requests_;     // counted in guarded(), rendered at each scrape
  RequestStats controller_calls_;  // counted by ControllerLink, rendered at each scrape
  RequestStats server_calls_;      // counted by the file-server links' observer
  std::unique_ptr<MetricsServer> metrics_server_;
  XattrCache xattrs_;
  Statahead statahead_;
  FreshDirs fresh_dirs_;
  static constexpr size_t kLeasedDirs = 512;
  static constexpr size_t kLeasedNames = 1 << 18;
  DirLeases dir_leases_{kLeasedDirs, kLeasedNames};
  std::unique_ptr<LeaseKeeper> lease_keeper_;
  std::atomic<uint64_t> known_missing_{0};

  std::mutex cache_mu_;  // guards cache_versions_
  std::unordered_map<uint64_t, uint64_t> cache_versions_;

  std::mutex renew_mu_;  // guards stopping_
  std::condition_variable renew_cv_;
  bool stopping_ = false;
  std::thread renew_thread_;
};

}  // namespace zhsm::fuse
