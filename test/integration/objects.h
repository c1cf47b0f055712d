// A file's data objects seen from two sides: what the controller reports
// (`zhsm-admin file info PATH --json`) and what lies on the backends (object
// files ROOT/aa/bb/rest-of-uuid: a 4096-byte head block holding "ZHSMOBJ1", a
// little-endian u32 length and a Cap'n Proto ObjectHead, then the data).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "common/uuid.h"
#include "test/integration/cluster.h"

namespace zhsm::test {

inline constexpr size_t kObjectHeadBlock = 4096;

// One copy of a data object, as file info lists it.
struct CopyInfo {
  std::string backend;       // backend UUID (canonical text), may be empty
  std::string backend_name;  // e.g. "fs1-b1"
  std::string server_name;   // e.g. "fs1"
  std::string address;       // "host:port" of the serving file server
  std::string state;         // "current", "outdated", "target"
};

struct ChunkInfo {
  uint64_t index = 0;
  Uuid uuid;
  uint64_t version = 0;
  uint64_t size = 0;
  std::string sha256;  // lower-case hex
  std::vector<CopyInfo> copies;
};

struct FileInfo {
  nlohmann::json raw;  // the whole answer, for messages
  uint64_t ino = 0;
  std::optional<Uuid> fsid;
  uint64_t size = 0;
  bool is_inline = false;
  uint64_t chunk_size = 0;
  std::vector<ChunkInfo> chunks;
};

// `zhsm-admin file info PATH --json` for a path on the cluster's main mount,
// parsed. Throws (failing the test) with the JSON text when a field is missing.
FileInfo file_info(const Cluster& cluster, const fs::path& path_on_mount);

// An object file on a backend, with the SHA-256 of its data computed here.
struct StoredObject {
  std::string error;  // empty when the file could be read and its head parsed
  uint64_t file_size = 0;
  Uuid uuid;
  Uuid owner;
  uint64_t index = 0;
  uint64_t version = 0;
  int64_t mtime_ns = 0;
  uint64_t size = 0;           // the head's size field
  std::string head_sha256;     // the head's sha256 field, hex
  std::string data_sha256;     // SHA-256 of the bytes after the head block, hex
  uint64_t data_bytes = 0;     // bytes after the head block
};

StoredObject read_stored_object(const fs::path& path);

// Paths of every copy of `id` on the cluster's backends (DIR/backends/fsK).
std::vector<fs::path> find_object_copies(const Cluster& cluster, const Uuid& id);

// Every object file below the backend directories `roots` (ROOT/aa/bb/rest, not the
// temporary area) whose head names `owner` as its file: what is left of a file's data.
std::vector<fs::path> objects_owned_by(const std::vector<fs::path>& roots, const Uuid& owner);

// SHA-256 (hex) of `size` bytes of `bytes` starting at `offset`.
inline std::string sha256_hex(const std::string& bytes, uint64_t offset, uint64_t size) {
  return to_hex(sha256(bytes.data() + offset, size));
}

// SHA-256 (hex) of `size` bytes of `path` starting at `offset`; empty on error.
std::string sha256_of_range(const fs::path& path, uint64_t offset, uint64_t size);

}  // namespace zhsm::test
