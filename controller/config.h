// zhsm-controller's configuration: the flags of doc/operator-guide.md, optionally read
// from a TOML file (--config; keys are the long flag names without dashes), where flags
// on the command line win over the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zhsm {

struct ControllerConfig {
  std::string listen = "127.0.0.1:7100";  // RPC address
  std::string db = "dbname=zhsm";         // libpq connection string
  std::string cluster_key;                // path of the cluster key file (required)
  std::string metrics;                    // Prometheus endpoint address; empty = off
  std::string port_file;                  // where to write the bound addresses; empty = none
  uint32_t db_threads = 4;
  uint64_t chunk_size = 16777216;
  uint64_t inline_max = 65536;
  uint32_t token_lifetime_s = 300;
  uint32_t heartbeat_timeout_s = 10;
  uint32_t client_grace_s = 10;  // disconnected this long, a client loses its locks
  uint32_t meta_cache = 32768;   // inodes (and as many names) kept in memory; 0 = no cache
  uint32_t inline_cache_mib = 64;  // MiB of small files' bytes kept for reads; 0 = none
  uint32_t repair_grace_s = 300; // a file server gone this long (not in maintenance) is lost
  uint64_t copy_bandwidth = 0;   // bytes/s per file server for copy jobs; 0 = unlimited
  uint32_t access_window_s = 604800;  // the `accesses` rule attribute counts opens this far back
  uint32_t ack_timeout_s = 30;   // a close waiting for a chain's `ack` copies fails after this
  uint32_t commit_group = 64;    // commitData calls one transaction may carry; 1 = each alone
  uint32_t dir_lease_ms = 5000;  // a mount's lease on a directory it made lasts this long; 0 = none
  std::string log_level = "info";
  std::string log_file;  // empty = standard error
};

// The outcome of reading the command line: a configuration, or an exit code (help was
// printed: 0; a usage error was printed: 2).
struct ConfigResult {
  std::optional<ControllerConfig> config;
  int exit_code = 0;
};

// Parses args (args[0] is the program name). Prints help and usage errors to stdout/stderr.
ConfigResult parse_config(const std::vector<std::string>& args);

// Throws Error(invalid) for out-of-range values or a missing cluster key.
void validate_config(const ControllerConfig& config);

// Applies the TOML text (the --config file's content) over `config`. Throws
// Error(invalid) naming the file, the key and the problem. `origin` names the file.
void apply_toml(ControllerConfig& config, const std::string& text, const std::string& origin);

// The connection string with any password replaced by "***", for logs.
std::string redact_conninfo(const std::string& conninfo);

}  // namespace zhsm
