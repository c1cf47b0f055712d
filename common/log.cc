// spdlog configuration shared by the daemons.
#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "common/error.h"

namespace zhsm {

void init_logging(const std::string& role, const std::string& level, const std::string& file) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw Error(Errc::invalid, "unknown log level '" + level + "'");
  std::shared_ptr<spdlog::logger> logger;
  if (file.empty())
    logger = spdlog::stderr_logger_mt(role);
  else
    logger = spdlog::basic_logger_mt(role, file);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l " + role + " %v");
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace zhsm
