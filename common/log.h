// Logging set-up: one line per event, "time level role key=value ...", through spdlog.
// Call sites log with spdlog directly: spdlog::info("event=... ino={} ...", ...).
#pragma once

#include <string>

namespace zhsm {

// Configures the default logger. `level` is trace|debug|info|warn|error; `file`
// empty means standard error. Throws Error(invalid) for an unknown level.
void init_logging(const std::string& role, const std::string& level, const std::string& file);

}  // namespace zhsm
