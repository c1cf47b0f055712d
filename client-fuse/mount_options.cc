// Option parsing with fuse_opt: a processing function takes zhsm's keys and keeps
// everything else (returns 1) so libfuse sees it later.
#define FUSE_USE_VERSION 35
#include "client-fuse/mount_options.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fuse_opt.h>

namespace zhsm::fuse {
namespace {

enum Key {
  kController, kAttrTimeout, kEntryTimeout, kReadAhead, kStatahead, kLogFile, kLogLevel,
  kMetrics, kPortFile, kReleaseDelay
};

const fuse_opt kOpts[] = {
    FUSE_OPT_KEY("controller=", kController),
    FUSE_OPT_KEY("attr_timeout=", kAttrTimeout),
    FUSE_OPT_KEY("entry_timeout=", kEntryTimeout),
    FUSE_OPT_KEY("read_ahead_kb=", kReadAhead),
    FUSE_OPT_KEY("statahead=", kStatahead),
    FUSE_OPT_KEY("log_file=", kLogFile),
    FUSE_OPT_KEY("log_level=", kLogLevel),
    FUSE_OPT_KEY("metrics=", kMetrics),
    FUSE_OPT_KEY("port_file=", kPortFile),
    FUSE_OPT_KEY("release_delay_ms=", kReleaseDelay),
    FUSE_OPT_END,
};

struct Parse {
  MountOptions* out;
  std::string error;
};

bool parse_seconds(const char* text, double& out) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(v >= 0) || v > 1e9) return false;
  out = v;
  return true;
}

bool parse_kib(const char* text, unsigned& out) {
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > (1u << 20)) return false;
  out = static_cast<unsigned>(v);
  return true;
}

int process(void* data, const char* arg, int key, fuse_args*) {
  auto* p = static_cast<Parse*>(data);
  const char* eq = std::strchr(arg, '=');
  const char* value = eq ? eq + 1 : "";
  switch (key) {
    case kController:
      p->out->controller = value;
      return 0;
    case kAttrTimeout:
      if (!parse_seconds(value, p->out->attr_timeout))
        p->error = std::string("bad attr_timeout '") + value + "'";
      return 0;
    case kEntryTimeout:
      if (!parse_seconds(value, p->out->entry_timeout))
        p->error = std::string("bad entry_timeout '") + value + "'";
      return 0;
    case kReadAhead:
      if (!parse_kib(value, p->out->read_ahead_kb))
        p->error = std::string("bad read_ahead_kb '") + value + "' (0 to 1048576)";
      return 0;
    case kStatahead:
      if (!parse_kib(value, p->out->statahead))
        p->error = std::string("bad statahead '") + value + "' (0 to 1048576 lookups)";
      return 0;
    case kLogFile:
      p->out->log_file = value;
      return 0;
    case kLogLevel:
      p->out->log_level = value;
      return 0;
    case kMetrics:
      p->out->metrics = value;
      return 0;
    case kPortFile:
      p->out->port_file = value;
      return 0;
    case kReleaseDelay:
      if (!parse_kib(value, p->out->release_delay_ms) || p->out->release_delay_ms > 10000)
        p->error = std::string("bad release_delay_ms '") + value + "' (0 to 10000)";
      return 0;
    default:
      return 1;  // not ours: keep it for libfuse
  }
}

}  // namespace

std::string parse_mount_options(fuse_args* args, MountOptions& out) {
  Parse p{&out, {}};
  if (fuse_opt_parse(args, &p, kOpts, process) != 0) return "cannot parse the options";
  if (!p.error.empty()) return p.error;
  if (out.controller.empty()) return "missing -o controller=HOST:PORT";
  if (out.controller.find(':') == std::string::npos)
    return "controller address '" + out.controller + "' is not HOST:PORT";
  if (!out.metrics.empty() && out.metrics.find(':') == std::string::npos)
    return "metrics address '" + out.metrics + "' is not HOST:PORT";
  if (args->argc < 1 || fuse_opt_insert_arg(args, 1, "-odefault_permissions,fsname=zhsm,subtype=zhsm") != 0)
    return "out of memory";
  return {};
}

}  // namespace zhsm::fuse
