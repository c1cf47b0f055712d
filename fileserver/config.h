// zhsm-fileserver's settings: the command-line flags of doc/operator-guide.md and the
// same keys in the --config TOML file (flags win over the file).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace zhsm::fileserver {

// One --backend NAME:TIER:PATH.
struct BackendSpec {
  std::string name;
  std::string tier;
  std::filesystem::path path;
};

struct FileserverConfig {
  std::string name;                      // default: the host name
  std::string listen = "127.0.0.1:0";
  std::string advertise;                 // default: listen host with the bound port
  std::string controller = "127.0.0.1:7100";
  std::filesystem::path cluster_key;     // required
  std::filesystem::path state_dir;       // required
  std::vector<BackendSpec> backends;     // at least one
  std::string metrics;                   // empty: off
  std::filesystem::path port_file;       // empty: none
  std::string log_level = "info";
  std::string log_file;                  // empty: standard error
  int io_threads = 4;
  int copy_tasks = 2;                    // copy tasks running at once (copy_tasks.h)
};

// Parses "NAME:TIER:PATH" (PATH may contain colons). Throws Error(invalid).
BackendSpec parse_backend_spec(const std::string& text);

// Parses the command line and the --config file. Returns the exit code when the
// process should end now (--help: 0; a bad flag: non-zero, after printing why).
// Throws Error(invalid) for a bad config file or missing required settings.
std::optional<int> parse_config(int argc, const char* const* argv, FileserverConfig& out);

}  // namespace zhsm::fileserver
