// The replicator keeps every data object where the file resolve chains want it: a loop on
// the controller's io_context looks at each file whose data was just committed (or whose
// copy was just reported), and walks all chunked files in passes (every 10 s, and at once
// after a chain edit, a server mark or a server coming or going), decides for each what to
// copy and what to drop (controller/copy_decision.h), records the wanted copies, and hands
// copy tasks to the destination file servers in their heartbeat replies. A server reports a
// finished task in its next heartbeat; only then, with the version and checksum checked
// by the database, does the copy count as current, and only once every wanted copy of an
// object is current are the unwanted ones dropped. State (the task table) lives on the
// io_context's thread; store calls go to the database pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/uuid.h"
#include "controller/controller_service.h"
#include "controller/copy_decision.h"
#include "controller/placement_store.h"

namespace zhsm {

struct ReplicatorOptions {
  std::chrono::milliseconds interval{10000};  // a whole pass begins at most this often
  uint32_t batch = 200;                      // files read per store call
  CopyDecisionOptions decide;
  uint64_t bandwidth_limit = 0;              // bytes/s per file server for copies; 0 = none
  uint32_t tasks_per_heartbeat = 32;         // new tasks handed to one server per beat
  uint32_t tasks_in_flight = 64;             // at most this many sent, unanswered, per server
  int64_t task_timeout_ms = 600000;          // a sent task unanswered this long is sent again
  int64_t token_lifetime_ms = 900000;        // of the read tokens in copy tasks
  uint32_t access_window_s = 604800;         // the `accesses` attribute counts opens this far back
  int64_t ack_timeout_ms = 30000;            // a close waiting for `ack` copies fails after this
  uint32_t busy_interval_ms = 200;           // heartbeat period asked of a server with copy work
};

// A copy task as the controller tracks it.
struct CopyJob {
  Uuid uuid;
  Uuid backend;       // destination
  std::string backend_name;
  Uuid server;        // the destination's server
  std::string from;   // name of the first source backend
  uint64_t ino = 0;
  Uuid fsid;
  uint64_t index = 0;
  uint64_t version = 0;
  uint64_t size = 0;
  std::string sha256;
  int64_t mtime_ns = 0;
  std::vector<CopyInfo> sources;
  int64_t queued_ms = 0;
  int64_t sent_ms = 0;  // 0 = queued, not yet handed to the server
  // How endangered the object was when queued: the order work is handed out in.
  uint32_t current = 0;
  uint32_t wanted = 0;
  bool update = false;      // the destination holds an older copy
  bool close = false;       // a close waits for it
  // The destination's last report while it runs (copying: it reported the task running;
  // a sent task may wait in the server's own queue).
  bool copying = false;
  uint64_t bytes_done = 0;
  uint64_t running_ms = 0;

  // "queued" (here), "sent" (waiting at the destination) or "running" (copying there).
  const char* state() const { return sent_ms == 0 ? "queued" : copying ? "running" : "sent"; }

  // "close", "update", "repair" (below the wanted count) or "move".
  std::string reason() const;
};

struct CopyProgressReport {
  Uuid backend;
  Uuid uuid;
  uint64_t bytes_done = 0;
  uint64_t running_ms = 0;
};

// The data objects a commit changed, for a close that waits for copies.
struct CommittedChunk {
  uint64_t index = 0;
  Uuid uuid;
  uint64_t version = 0;
};

struct CopyReport {
  Uuid backend;
  Uuid uuid;
  uint64_t version = 0;
  bool ok = false;
  std::string sha256;
  std::string error;  // code and message (not ok)
};

struct PlanLine {
  std::string from;  // empty: a new copy
  std::string to;    // empty: a copy dropped
  uint64_t objects = 0;
  uint64_t bytes = 0;
  std::vector<std::string> wakes;
};

struct PlanResult {
  std::vector<PlanLine> moves;
  uint64_t objects = 0;
  std::vector<std::string> problems;
};

struct WhyResult {
  PlacementFile file;
  FileDecision decision;
  std::vector<ServerState> servers;
};

class Replicator {
 public:
  Replicator(asio::io_context& io, ControllerService& service, PlacementStore& store,
             ReplicatorOptions options);

  void start();
  void stop();  // on the io thread
  // The chains or the servers changed: start a whole pass now.
  void poke();
  // The chains or the server marks were edited: reloads them before the caller answers
  // (so the next open places new data by them), then starts a whole pass.
  awaitable<void> reload();
  // The data of file `ino` changed (a commit): look at its copies soon, without a pass.
  void changed(uint64_t ino);

  // ---- heartbeats (io thread)
  // Up to tasks_per_heartbeat queued tasks for `server`, now marked as sent.
  std::vector<CopyJob> take_tasks(const Uuid& server);
  // Finished tasks a server reported: the copies become current (or not), the tasks end.
  awaitable<void> reported(const Uuid& server, std::vector<CopyReport> reports);
  // Tasks running on a server, and the data requests it serves now.
  void progress(const Uuid& server, const std::vector<CopyProgressReport>& running,
                uint32_t load);
  uint32_t load_of(const Uuid& server) const;
  // Its load and whether it is leaving (maintenance, draining), for the order of reads.
  ReadHint read_hint(const Uuid& server) const;
  // The heartbeat period for `server`: short while it has copy work, else `normal`.
  uint32_t interval_for(const Uuid& server, uint32_t normal) const;

  // ---- closes
  // Waits until the chunks a commit of file `ino` changed have as many current copies as
  // its chain's `ack` asks for (at once when that is 1). Throws io after ack_timeout_ms, or
  // at once when the chains place fewer copies than that on reachable servers.
  awaitable<void> await_copies(uint64_t ino, std::vector<CommittedChunk> chunks);
  // File `ino` was opened: counted for the `accesses` attribute.
  void accessed(uint64_t ino);
  const ReplicatorOptions& options() const { return options_; }
  const std::string& cluster_key() const { return service_.options().cluster_key; }

  // ---- new data
  // Where new data objects of the file just opened for writing go: the first backend the
  // chains choose for it, instead of the store's pick (the live backend with the most
  // room). Asks the database only while some chain differs from the built-in `use any`.
  awaitable<void> place_new_data(OpenResult& result);

  // ---- admin
  awaitable<WhyResult> why(uint64_t ino);
  // The plan for the chains as stored, or with `preview` replacing (or adding) chains by name.
  awaitable<PlanResult> plan(std::vector<ChainRow> preview = {});
  // Placement problems of the last whole pass (or of the one under way when none ended yet).
  std::vector<std::string> problems() const;
  size_t running_jobs() const;  // reported copying by their destination
  // Running jobs first, then queued ones in the order they are handed out.
  std::vector<const CopyJob*> jobs() const;
  uint64_t bytes_done() const { return bytes_done_; }
  uint64_t bytes_per_second() const;

 private:
  awaitable<void> loop();
  awaitable<void> pass_batch();
  awaitable<void> visit_dirty();
  // Decides for one file (problems logged once while they last) and carries it out.
  awaitable<void> look_at(const PlacementFile& file, int64_t now_ms);
  awaitable<void> refresh();  // servers and chains
  awaitable<void> carry_out(const PlacementFile& file, const FileDecision& decision);
  awaitable<std::map<std::string, Chain>> load_chains();
  awaitable<void> flush_accesses();
  int64_t accesses_since_hour() const;
  void wake_waiters(uint64_t ino);

  asio::io_context& io_;
  ControllerService& service_;
  PlacementStore& store_;
  const ReplicatorOptions options_;
  asio::steady_timer timer_;
  bool stopped_ = false;
  bool poked_ = false;
  bool pass_begun_ = false;      // a pass is part-way (cursor_ is where it goes on)
  static constexpr size_t kMaxDirty = 100000;
  std::set<uint64_t> dirty_;     // files changed since they were last looked at
  uint64_t cursor_ = 0;  // last inode of the pass so far; 0 = a new pass begins
  std::vector<ServerState> servers_;
  std::map<std::string, Chain> chains_;
  bool chains_trivial_ = true;  // only `default` with `use any`: the store's pick is the chains' pick
  std::map<std::pair<Uuid, Uuid>, CopyJob> jobs_;  // by (object, destination backend)
  std::set<std::string> logged_problems_;          // each problem logged once per pass
  std::set<std::string> pass_problems_;
  std::vector<std::string> last_problems_;         // of the last whole pass
  uint32_t max_ack_ = 1;                            // of every chain
  std::map<uint64_t, uint64_t> accesses_;           // opens by file, not yet stored
  int64_t accesses_flushed_ms_ = 0;
  std::multimap<uint64_t, asio::steady_timer*> waiters_;  // closes waiting, by file
  std::map<Uuid, uint32_t> loads_;                  // data requests in progress, by server
  uint64_t bytes_done_ = 0;
  std::deque<std::pair<int64_t, uint64_t>> recent_;  // (unix ms, bytes) of the last minute
};

}  // namespace zhsm
