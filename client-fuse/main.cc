// zhsm-fuse: options -> logging -> hello (fail early when the controller is
// unreachable) -> mount -> daemonize -> start the Asio and renewer threads ->
// multi-threaded FUSE loop -> unmount. Usage in doc/operator-guide.md.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "client-fuse/fuse_lock_keeper.h"
#include "client-fuse/fuse_ops.h"
#include "client-fuse/mount_options.h"
#include "client-fuse/readahead.h"
#include "common/bulk_malloc.h"
#include "common/log.h"

namespace {

void usage(const char* prog) {
  std::printf(
      "usage: %s MOUNTPOINT -o controller=HOST:PORT[,allow_other][,attr_timeout=S]"
      "[,entry_timeout=S][,read_ahead_kb=K][,statahead=N][,log_file=F][,log_level=L] [-f] [-d]\n\n",
      prog);
}

// The mount point as /proc/self/mountinfo will name it (absolute, no links).
std::string canonical(const char* path) {
  std::unique_ptr<char, decltype(&std::free)> real(realpath(path, nullptr), &std::free);
  return real ? std::string(real.get()) : std::string(path);
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

int main(int argc, char* argv[]) {
  zhsm::tune_malloc_for_bulk_io();
  using namespace zhsm;
  using namespace zhsm::fuse;
  fuse_args args = FUSE_ARGS_INIT(argc, argv);
  fuse_cmdline_opts cmd{};
  MountOptions options;

  // Ours first: it adds subtype=zhsm before libfuse's parser would add a default one.
  std::string error = parse_mount_options(&args, options);
  if (fuse_parse_cmdline(&args, &cmd) != 0) return 2;
  if (cmd.show_help) {
    usage(argv[0]);
    fuse_cmdline_help();
    fuse_lowlevel_help();
    return 0;
  }
  if (cmd.show_version) {
    std::printf("zhsm-fuse, FUSE library version %s\n", fuse_pkgversion());
    return 0;
  }
  if (cmd.mountpoint == nullptr) {
    usage(argv[0]);
    return 2;
  }
  std::unique_ptr<char, decltype(&std::free)> mountpoint(cmd.mountpoint, &std::free);
  if (!error.empty()) {
    std::fprintf(stderr, "zhsm-fuse: %s\n", error.c_str());
    fuse_opt_free_args(&args);
    return 2;
  }
  try {
    init_logging("fuse", cmd.debug && options.log_level == "info" ? "debug" : options.log_level,
                 options.log_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zhsm-fuse: %s\n", e.what());
    fuse_opt_free_args(&args);
    return 2;
  }

  std::string client_name = host_name() + ":" + mountpoint.get();
  std::string mounted_at = canonical(mountpoint.get());
  HelloInfo hello;
  try {
    hello = probe_controller(options.controller, client_name);
  } catch (const std::exception& e) {
    spdlog::error("event=controller_unreachable controller={} msg=\"{}\"", options.controller, e.what());
    std::fprintf(stderr, "zhsm-fuse: controller %s unreachable: %s\n", options.controller.c_str(),
                 e.what());
    fuse_opt_free_args(&args);
    return 1;
  }

  Mount mount(options, hello, client_name);
  LockKeeper locks(mount);
  Edge edge{mount};
  edge.locks = &locks;
  int ret = 1;
  fuse_session* se = fuse_session_new(&args, &operations(), sizeof(fuse_lowlevel_ops), &edge);
  if (se != nullptr) {
    edge.session = se;
    if (fuse_set_signal_handlers(se) == 0) {
      if (fuse_session_mount(se, mountpoint.get()) == 0) {
        set_readahead(mounted_at, options.read_ahead_kb);
        fuse_daemonize(cmd.foreground);
        mount.start();
        spdlog::info("event=mounted mountpoint={} controller={} chunk_size={} inline_max={}",
                     mountpoint.get(), options.controller, hello.geometry.chunk_size,
                     hello.geometry.inline_max);
        if (cmd.singlethread) {
          ret = fuse_session_loop(se);
        } else {
          fuse_loop_config config{};
          config.clone_fd = cmd.clone_fd;
          config.max_idle_threads =
              cmd.max_idle_threads == 0 || cmd.max_idle_threads > 1000 ? 16 : cmd.max_idle_threads;
          ret = fuse_session_loop_mt(se, &config);
        }
        locks.stop();  // answers parked lock requests while the session still exists
        fuse_session_unmount(se);
        spdlog::info("event=unmounted mountpoint={}", mountpoint.get());
        mount.stop();
      }
      fuse_remove_signal_handlers(se);
    }
    fuse_session_destroy(se);
  }
  fuse_opt_free_args(&args);
  return ret == 0 ? 0 : 1;
}
