// zhsm-controller: reads its configuration, sets up logging and runs the controller
// (controller/daemon.h) until SIGINT or SIGTERM.
#include <cstdio>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/log.h"
#include "controller/config.h"
#include "controller/daemon.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto parsed = zhsm::parse_config(args);
  if (!parsed.config) return parsed.exit_code;
  const auto& config = *parsed.config;
  try {
    zhsm::init_logging("controller", config.log_level, config.log_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zhsm-controller: %s\n", e.what());
    return 2;
  }
  try {
    return zhsm::run_controller(config);
  } catch (const zhsm::Error& e) {
    spdlog::critical("event=fatal code={} reason=\"{}\"", zhsm::errc_name(e.code()), e.what());
    if (!config.log_file.empty()) std::fprintf(stderr, "zhsm-controller: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    spdlog::critical("event=fatal code=internal reason=\"{}\"", e.what());
    if (!config.log_file.empty()) std::fprintf(stderr, "zhsm-controller: %s\n", e.what());
    return 1;
  }
}
