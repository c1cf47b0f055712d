// The file server's Prometheus metrics: their names in one place, and the
// declarations (type and help text) registered once at start-up.
#pragma once

#include <string>

#include "common/metrics.h"

namespace zhsm::fileserver::metric {

inline constexpr const char* kRequests = "zhsm_fileserver_requests_total";
inline constexpr const char* kErrors = "zhsm_fileserver_errors_total";
inline constexpr const char* kBytesRead = "zhsm_fileserver_read_bytes_total";
inline constexpr const char* kBytesWritten = "zhsm_fileserver_written_bytes_total";
inline constexpr const char* kSessionsOpen = "zhsm_fileserver_write_sessions_open";
inline constexpr const char* kCommits = "zhsm_fileserver_commits_total";
inline constexpr const char* kBackendFree = "zhsm_fileserver_backend_free_bytes";
inline constexpr const char* kBackendUsed = "zhsm_fileserver_backend_used_bytes";
inline constexpr const char* kBackendTotal = "zhsm_fileserver_backend_total_bytes";
inline constexpr const char* kBackendObjects = "zhsm_fileserver_backend_objects";
inline constexpr const char* kObjectsDeleted = "zhsm_fileserver_objects_deleted_total";
inline constexpr const char* kControllerConnected = "zhsm_fileserver_controller_connected";
inline constexpr const char* kCopiesDone = "zhsm_fileserver_copies_done_total";
inline constexpr const char* kCopiesFailed = "zhsm_fileserver_copies_failed_total";
inline constexpr const char* kCopyBytes = "zhsm_fileserver_copy_bytes_total";
inline constexpr const char* kCopiesRunning = "zhsm_fileserver_copies_running";

// Declares every metric above (idempotent).
inline void describe_all(Metrics& m) {
  m.describe(kRequests, "counter", "data requests served, by op");
  m.describe(kErrors, "counter", "data requests answered with an error, by code");
  m.describe(kBytesRead, "counter", "object bytes sent to clients");
  m.describe(kBytesWritten, "counter", "object bytes received from clients");
  m.describe(kSessionsOpen, "gauge", "write sessions open");
  m.describe(kCommits, "counter", "write sessions committed");
  m.describe(kBackendFree, "gauge", "free bytes of the file system holding the backend");
  m.describe(kBackendUsed, "gauge", "bytes held by zhsm objects on the backend");
  m.describe(kBackendTotal, "gauge", "size of the file system holding the backend");
  m.describe(kBackendObjects, "gauge", "objects on the backend");
  m.describe(kObjectsDeleted, "counter", "objects removed on the controller's request");
  m.describe(kControllerConnected, "gauge", "1 while registered with the controller");
  m.describe(kCopiesDone, "counter", "copy tasks done: the object installed or already here");
  m.describe(kCopiesFailed, "counter", "copy tasks failed, by code");
  m.describe(kCopyBytes, "counter", "object bytes received from other file servers by copy tasks");
  m.describe(kCopiesRunning, "gauge", "copy tasks running");
  m.set(kSessionsOpen, 0);
  m.set(kCopiesRunning, 0);
  m.set(kControllerConnected, 0);
}

inline std::string label(const char* key, const std::string& value) {
  return std::string(key) + "=\"" + value + "\"";
}

}  // namespace zhsm::fileserver::metric
