// Command line and TOML parsing for zhsm-controller (see config.h).
#include "controller/config.h"

#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/error.h"

namespace zhsm {
namespace {

template <class T>
void take_int(const toml::node& node, T& out, const std::string& key, const std::string& origin) {
  auto v = node.value<int64_t>();
  if (!v || *v < 0 || static_cast<uint64_t>(*v) > std::numeric_limits<T>::max())
    throw Error(Errc::invalid,
                fmt::format("{}: key '{}' must be a non-negative integer in range", origin, key));
  out = static_cast<T>(*v);
}

void take_string(const toml::node& node, std::string& out, const std::string& key,
                 const std::string& origin) {
  auto v = node.value<std::string>();
  if (!v) throw Error(Errc::invalid, fmt::format("{}: key '{}' must be a string", origin, key));
  out = *v;
}

// The --config value, if the command line has one.
std::optional<std::string> find_config_flag(const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) return args[i].substr(9);
  }
  return std::nullopt;
}

}  // namespace

void apply_toml(ControllerConfig& c, const std::string& text, const std::string& origin) {
  toml::table table;
  try {
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw Error(Errc::invalid, fmt::format("{}: {} (line {})", origin, e.description(),
                                           e.source().begin.line));
  }
  for (const auto& [k, node] : table) {
    std::string key(k.str());
    if (key == "listen") take_string(node, c.listen, key, origin);
    else if (key == "db") take_string(node, c.db, key, origin);
    else if (key == "cluster-key") take_string(node, c.cluster_key, key, origin);
    else if (key == "metrics") take_string(node, c.metrics, key, origin);
    else if (key == "port-file") take_string(node, c.port_file, key, origin);
    else if (key == "db-threads") take_int(node, c.db_threads, key, origin);
    else if (key == "chunk-size") take_int(node, c.chunk_size, key, origin);
    else if (key == "inline-max") take_int(node, c.inline_max, key, origin);
    else if (key == "token-lifetime") take_int(node, c.token_lifetime_s, key, origin);
    else if (key == "heartbeat-timeout") take_int(node, c.heartbeat_timeout_s, key, origin);
    else if (key == "client-grace") take_int(node, c.client_grace_s, key, origin);
    else if (key == "meta-cache") take_int(node, c.meta_cache, key, origin);
    else if (key == "inline-cache") take_int(node, c.inline_cache_mib, key, origin);
    else if (key == "repair-grace") take_int(node, c.repair_grace_s, key, origin);
    else if (key == "copy-bandwidth") take_int(node, c.copy_bandwidth, key, origin);
    else if (key == "access-window") take_int(node, c.access_window_s, key, origin);
    else if (key == "ack-timeout") take_int(node, c.ack_timeout_s, key, origin);
    else if (key == "commit-group") take_int(node, c.commit_group, key, origin);
    else if (key == "dir-lease-ms") take_int(node, c.dir_lease_ms, key, origin);
    else if (key == "log-level") take_string(node, c.log_level, key, origin);
    else if (key == "log-file") take_string(node, c.log_file, key, origin);
    else throw Error(Errc::invalid, fmt::format("{}: unknown key '{}'", origin, key));
  }
}

ConfigResult parse_config(const std::vector<std::string>& args) {
  ControllerConfig c;
  ConfigResult result;
  try {
    if (auto path = find_config_flag(args)) {
      std::ifstream in(*path);
      if (!in) throw Error(Errc::invalid, "cannot read config file " + *path);
      std::stringstream ss;
      ss << in.rdbuf();
      apply_toml(c, ss.str(), *path);
    }
  } catch (const Error& e) {
    std::cerr << "zhsm-controller: " << e.what() << "\n";
    result.exit_code = 2;
    return result;
  }

  CLI::App app{"zhsm-controller: namespace, placement and tokens of a zhsm cluster"};
  std::string config_path;
  app.add_option("--config", config_path, "TOML file with the same keys as the flags");
  app.add_option("--listen", c.listen, "RPC address (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--db", c.db, "libpq connection string")->capture_default_str();
  app.add_option("--cluster-key", c.cluster_key, "cluster key file shared with file servers");
  app.add_option("--metrics", c.metrics, "Prometheus endpoint address (off when unset)");
  app.add_option("--port-file", c.port_file, "write listen=/metrics= lines here after binding");
  app.add_option("--db-threads", c.db_threads, "PostgreSQL connections / worker threads")
      ->capture_default_str();
  app.add_option("--chunk-size", c.chunk_size, "data object size for a new cluster")
      ->capture_default_str();
  app.add_option("--inline-max", c.inline_max, "files up to this size keep data in the database")
      ->capture_default_str();
  app.add_option("--token-lifetime", c.token_lifetime_s, "seconds a token lives without renewal")
      ->capture_default_str();
  app.add_option("--heartbeat-timeout", c.heartbeat_timeout_s,
                 "seconds of silence after which a file server is failed")
      ->capture_default_str();
  app.add_option("--client-grace", c.client_grace_s,
                 "seconds a client may stay disconnected before its locks are dropped")
      ->capture_default_str();
  app.add_option("--meta-cache", c.meta_cache,
                 "inodes, and as many names, whose metadata is kept in memory (0: off)")
      ->capture_default_str();
  app.add_option("--inline-cache", c.inline_cache_mib,
                 "MiB of small files' bytes kept in memory to answer their reads (0: none; "
                 "needs --meta-cache)")
      ->capture_default_str();
  app.add_option("--repair-grace", c.repair_grace_s,
                 "seconds a file server may be gone (unplanned) before its copies are made "
                 "again elsewhere")
      ->capture_default_str();
  app.add_option("--copy-bandwidth", c.copy_bandwidth,
                 "bytes per second each file server may spend on copy jobs (0: unlimited)")
      ->capture_default_str();
  app.add_option("--access-window", c.access_window_s,
                 "seconds of opens the `accesses` rule attribute counts (whole hours)")
      ->capture_default_str();
  app.add_option("--ack-timeout", c.ack_timeout_s,
                 "seconds a close waits for the copies its chain's `ack` asks for before it "
                 "fails (the data stays stored)")
      ->capture_default_str();
  app.add_option("--commit-group", c.commit_group,
                 "commitData calls of concurrent clients one transaction may carry "
                 "(1: each alone)")
      ->capture_default_str();
  app.add_option("--dir-lease-ms", c.dir_lease_ms,
                 "milliseconds a mount's lease on a directory it made lasts between its "
                 "renewals; while it lasts the mount answers missing names itself (0: no "
                 "leases)")
      ->capture_default_str();
  app.add_option("--log-level", c.log_level, "trace|debug|info|warn|error")->capture_default_str();
  app.add_option("--log-file", c.log_file, "log file (standard error when unset)");

  std::vector<std::string> rest(args.rbegin(), args.rend() - 1);  // CLI11 wants them reversed
  try {
    app.parse(rest);
    validate_config(c);
  } catch (const CLI::ParseError& e) {
    result.exit_code = app.exit(e);
    return result;
  } catch (const Error& e) {
    std::cerr << "zhsm-controller: " << e.what() << "\n";
    result.exit_code = 2;
    return result;
  }
  result.config = c;
  return result;
}

void validate_config(const ControllerConfig& c) {
  if (c.cluster_key.empty()) throw Error(Errc::invalid, "--cluster-key is required");
  if (c.db_threads < 1 || c.db_threads > 256)
    throw Error(Errc::invalid, fmt::format("--db-threads {} is not in 1..256", c.db_threads));
  if (c.chunk_size < 4096 || c.chunk_size % 4096 != 0 || c.chunk_size > (1ull << 30))
    throw Error(Errc::invalid,
                fmt::format("--chunk-size {} must be a multiple of 4096 between 4 KiB and 1 GiB",
                            c.chunk_size));
  if (c.inline_max > (4ull << 20) || c.inline_max > c.chunk_size)
    throw Error(Errc::invalid,
                fmt::format("--inline-max {} must be at most 4 MiB and at most the chunk size",
                            c.inline_max));
  if (c.token_lifetime_s < 1)
    throw Error(Errc::invalid, "--token-lifetime must be at least 1 second");
  if (c.heartbeat_timeout_s < 1)
    throw Error(Errc::invalid, "--heartbeat-timeout must be at least 1 second");
  if (c.client_grace_s < 1)
    throw Error(Errc::invalid, "--client-grace must be at least 1 second");
  if (c.repair_grace_s < 1)
    throw Error(Errc::invalid, "--repair-grace must be at least 1 second");
  if (c.access_window_s < 3600)
    throw Error(Errc::invalid, "--access-window must be at least 3600 seconds (one hour)");
  // Clients give a controller call 60 s: a close must be answered before that.
  if (c.ack_timeout_s < 1 || c.ack_timeout_s > 50)
    throw Error(Errc::invalid, "--ack-timeout must be 1 to 50 seconds");
  if (c.commit_group < 1 || c.commit_group > 1024)
    throw Error(Errc::invalid, fmt::format("--commit-group {} is not in 1..1024", c.commit_group));
  if (c.dir_lease_ms != 0 && (c.dir_lease_ms < 300 || c.dir_lease_ms > 60000))
    throw Error(Errc::invalid,
                fmt::format("--dir-lease-ms {} is not 0 or in 300..60000", c.dir_lease_ms));
  if (c.meta_cache > (1u << 22))
    throw Error(Errc::invalid, fmt::format("--meta-cache {} is more than 4194304", c.meta_cache));
  if (c.inline_cache_mib > 65536)
    throw Error(Errc::invalid,
                fmt::format("--inline-cache {} MiB is more than 65536", c.inline_cache_mib));
}

std::string redact_conninfo(const std::string& conninfo) {
  static const std::regex kv(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))",
                             std::regex::icase);
  static const std::regex uri(R"(^(postgres(?:ql)?://[^:/@]*:)[^@]*@)", std::regex::icase);
  std::string out = std::regex_replace(conninfo, kv, "$1***");
  return std::regex_replace(out, uri, "$1***@");
}

}  // namespace zhsm
