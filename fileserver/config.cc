// Command line (CLI11) and --config file (toml++) of zhsm-fileserver (see config.h).
#include "fileserver/config.h"

#include <unistd.h>

#include <functional>
#include <map>
#include <set>

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include "common/error.h"

namespace zhsm::fileserver {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "fileserver";
  return buf;
}

std::string toml_text(const toml::node& node, const std::string& key, const std::string& file) {
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto i = node.value_exact<int64_t>()) return std::to_string(*i);
  throw Error(Errc::invalid, "config " + file + ": key '" + key + "' must be a string");
}

// Applies the keys of the TOML file `file` that the command line did not set.
void merge_file(const std::string& file, const CLI::App& app, FileserverConfig& c) {
  toml::table doc;
  try {
    doc = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    throw Error(Errc::invalid, "config " + file + " is not valid TOML: " +
                                   std::string(e.description()));
  }
  using Setter = std::function<void(const std::string&)>;
  std::map<std::string, Setter> scalars = {
      {"name", [&](const std::string& v) { c.name = v; }},
      {"listen", [&](const std::string& v) { c.listen = v; }},
      {"advertise", [&](const std::string& v) { c.advertise = v; }},
      {"controller", [&](const std::string& v) { c.controller = v; }},
      {"cluster-key", [&](const std::string& v) { c.cluster_key = v; }},
      {"state-dir", [&](const std::string& v) { c.state_dir = v; }},
      {"metrics", [&](const std::string& v) { c.metrics = v; }},
      {"port-file", [&](const std::string& v) { c.port_file = v; }},
      {"log-level", [&](const std::string& v) { c.log_level = v; }},
      {"log-file", [&](const std::string& v) { c.log_file = v; }},
      {"io-threads",
       [&](const std::string& v) {
         try {
           c.io_threads = std::stoi(v);
         } catch (const std::exception&) {
           throw Error(Errc::invalid, "config " + file + ": io-threads must be a number");
         }
       }},
      {"copy-tasks",
       [&](const std::string& v) {
         try {
           c.copy_tasks = std::stoi(v);
         } catch (const std::exception&) {
           throw Error(Errc::invalid, "config " + file + ": copy-tasks must be a number");
         }
       }},
  };
  for (auto&& [k, node] : doc) {
    std::string key(k.str());
    auto it = scalars.find(key);
    if (it == scalars.end() && key != "backend")
      throw Error(Errc::invalid, "config " + file + ": unknown key '" + key + "'");
    bool on_command_line = app.count("--" + key) > 0;
    if (key == "backend") {
      if (on_command_line) continue;
      if (auto* list = node.as_array()) {
        for (auto& item : *list) c.backends.push_back(parse_backend_spec(toml_text(item, key, file)));
      } else {
        c.backends.push_back(parse_backend_spec(toml_text(node, key, file)));
      }
      continue;
    }
    if (!on_command_line) it->second(toml_text(node, key, file));
  }
}

void validate(FileserverConfig& c) {
  if (c.cluster_key.empty()) throw Error(Errc::invalid, "--cluster-key is required");
  if (c.state_dir.empty()) throw Error(Errc::invalid, "--state-dir is required");
  if (c.backends.empty())
    throw Error(Errc::invalid, "at least one --backend NAME:TIER:PATH is required");
  if (c.io_threads < 1 || c.io_threads > 1024)
    throw Error(Errc::invalid, "--io-threads must be between 1 and 1024");
  if (c.copy_tasks < 1 || c.copy_tasks > 64)
    throw Error(Errc::invalid, "--copy-tasks must be between 1 and 64");
  if (c.name.empty()) c.name = host_name();
  std::set<std::string> names;
  std::set<std::filesystem::path> paths;
  for (auto& b : c.backends) {
    if (!names.insert(b.name).second)
      throw Error(Errc::invalid, "backend name '" + b.name + "' is given twice");
    auto canonical = std::filesystem::weakly_canonical(b.path);
    if (!paths.insert(canonical).second)
      throw Error(Errc::invalid, "backend directory " + b.path.string() + " is given twice");
  }
}

}  // namespace

BackendSpec parse_backend_spec(const std::string& text) {
  auto first = text.find(':');
  auto second = first == std::string::npos ? first : text.find(':', first + 1);
  if (second == std::string::npos)
    throw Error(Errc::invalid, "backend '" + text + "' is not NAME:TIER:PATH");
  BackendSpec b{text.substr(0, first), text.substr(first + 1, second - first - 1),
                text.substr(second + 1)};
  if (b.name.empty() || b.tier.empty() || b.path.empty())
    throw Error(Errc::invalid, "backend '" + text + "' is not NAME:TIER:PATH (a part is empty)");
  return b;
}

std::optional<int> parse_config(int argc, const char* const* argv, FileserverConfig& c) {
  CLI::App app("zhsm-fileserver: serves objects on backend directories", "zhsm-fileserver");
  std::string config_file;
  std::vector<std::string> backends;
  std::string cluster_key, state_dir, port_file;
  app.add_option("--config", config_file, "TOML file with the same keys as the flags");
  app.add_option("--name", c.name, "server name, unique in the cluster (default: host name)");
  app.add_option("--listen", c.listen, "data address for clients")->capture_default_str();
  app.add_option("--advertise", c.advertise,
                 "address registered with the controller (default: listen address with the "
                 "bound port)");
  app.add_option("--controller", c.controller, "controller address")->capture_default_str();
  app.add_option("--cluster-key", cluster_key, "cluster key file (required)");
  app.add_option("--state-dir", state_dir, "keeps the server's UUID (required)");
  app.add_option("--backend", backends, "NAME:TIER:PATH of a backend directory; repeat for more");
  app.add_option("--metrics", c.metrics, "Prometheus endpoint address");
  app.add_option("--port-file", port_file,
                 "after binding, write listen=HOST:PORT and metrics=HOST:PORT lines here");
  app.add_option("--log-level", c.log_level, "trace|debug|info|warn|error")->capture_default_str();
  app.add_option("--log-file", c.log_file, "log file (default: standard error)");
  app.add_option("--io-threads", c.io_threads, "disk I/O threads")->capture_default_str();
  app.add_option("--copy-tasks", c.copy_tasks,
                 "copy tasks (objects fetched from other file servers) run at once")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  c.cluster_key = cluster_key;
  c.state_dir = state_dir;
  c.port_file = port_file;
  for (auto& b : backends) c.backends.push_back(parse_backend_spec(b));
  if (!config_file.empty()) merge_file(config_file, app, c);
  validate(c);
  return std::nullopt;
}

}  // namespace zhsm::fileserver
