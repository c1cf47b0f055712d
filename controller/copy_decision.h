// What the chains want done with one file's data objects, decided from the database's view
// of its copies and of the servers (pure; controller/replicator.h carries it out, `why` and
// `plan` show it). Replication, tiering, repair and draining are this one decision: make
// the copies the chains want current, copying first, and only then drop the unwanted ones.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controller/chain.h"
#include "controller/meta_types.h"
#include "controller/placement_store.h"

namespace zhsm {

struct CopyDecisionOptions {
  int64_t heartbeat_timeout_ms = 10000;  // a server silent this long is offline
  // An offline server that is not in maintenance counts as lost after this long: its
  // copies no longer hold their place, and other servers get the copies it held. Before
  // that (and for a server in maintenance, however long) its copies keep their place.
  int64_t repair_grace_ms = 60000;
  uint64_t min_free_bytes = 0;  // a backend with less free space takes no new copy
};

enum class CopyActionKind { kCopy, kDrop };

struct CopyAction {
  CopyActionKind kind = CopyActionKind::kCopy;
  const ChunkInfo* chunk = nullptr;  // in the PlacementFile decided on
  Uuid backend;                      // kCopy: the destination; kDrop: the copy dropped
  std::string backend_name;
  Uuid server;                       // the server of `backend`
  std::string server_name;
  std::vector<CopyInfo> sources;     // kCopy: current copies on reachable servers
  // kCopy: how endangered the object is, for the order of the work: its current copies
  // on servers not lost, and the copies its chains want.
  uint32_t current = 0;
  uint32_t wanted = 0;
  bool update = false;               // kCopy: the destination holds an older copy
};

struct ChunkDecision {
  const ChunkInfo* chunk = nullptr;
  Evaluation evaluation;
};

struct FileDecision {
  std::string chain;                  // where evaluation started ("default" or a dir's)
  std::vector<ChunkDecision> chunks;  // one per data object, in index order
  std::vector<CopyAction> actions;
  std::vector<std::string> problems;  // of every chunk's evaluation, each once, and copies
                                      // that cannot be made now (no reachable source)
  std::vector<std::string> waits;     // servers that are offline or in maintenance and hold
                                      // a copy the chains want updated, or the only current
                                      // copy a new one would be made from
};

// The facts of `file` for the rules, at `now_ms`.
FileFacts file_facts(const PlacementFile& file, int64_t now_ms);

// Evaluates the chains for every data object of `file` and lists the copies to make and
// drop. A copy is made only on a live server that is not in maintenance or draining, from
// a current copy on a live server. A copy is dropped only when the evaluation of its
// object is complete (every wanted copy placed, no rule with a problem) and every wanted
// copy is current: never the last current copy, never because a rule could not be met.
FileDecision decide_copies(const PlacementFile& file, const std::map<std::string, Chain>& chains,
                           const std::vector<ServerState>& servers, int64_t now_ms,
                           const CopyDecisionOptions& options);

// The backends as candidates for new data (no copy held anywhere): usable when their server
// is live, not in maintenance, not draining, and they have `min_free_bytes` free.
std::vector<BackendFacts> new_data_backends(const std::vector<ServerState>& servers,
                                            int64_t now_ms, const CopyDecisionOptions& options,
                                            uint64_t min_free_bytes);

// The chains as rules: rows whose rules fail to parse are logged by the caller from
// `errors` and evaluated without those rules.
std::map<std::string, Chain> parse_chains(const std::vector<ChainRow>& rows,
                                          std::vector<std::string>* errors);

}  // namespace zhsm
