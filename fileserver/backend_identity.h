// A backend directory's identity: ROOT/.zhsm-backend, a small TOML file with the
// backend's UUID, name and tier, written on first use and kept from then on, so the
// backend keeps its UUID across restarts and moves. While a file server serves a
// backend it holds an exclusive lock on the directory, so two servers (or one server
// named twice) never share it.
#pragma once

#include <filesystem>
#include <string>

#include "common/uuid.h"
#include "fileserver/disk_io.h"

namespace zhsm::fileserver {

struct BackendIdentity {
  Uuid id;
  std::string name;  // operator-chosen, unique in the cluster
  std::string tier;  // e.g. "ssd", "hdd", "archive"
};

// The identity of the backend at `root` and the lock that keeps it ours.
struct ClaimedBackend {
  BackendIdentity identity;
  File lock;                  // the locked root directory; the lock goes with it
  bool created = false;       // .zhsm-backend was written just now
  std::string previous_tier;  // non-empty when the tier changed (the file is updated)
};

// Claims the backend directory `root` (which must exist) for `name` and `tier`:
// locks it, then reads .zhsm-backend or creates it with a fresh UUID. Throws
// Error(invalid) when the file names another backend (name mismatch) or is malformed,
// Error(busy) when another process holds the directory, Error(io) for disk failures.
ClaimedBackend claim_backend(const DiskIo& io, const std::filesystem::path& root,
                             const std::string& name, const std::string& tier);

}  // namespace zhsm::fileserver
