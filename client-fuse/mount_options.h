// zhsm-fuse's own -o options (controller=, attr_timeout=, entry_timeout=,
// read_ahead_kb=, statahead=, log_file=, log_level=, metrics=, port_file=,
// release_delay_ms=), taken out of the argument list with libfuse's
// fuse_opt; every other option stays in the list for libfuse (allow_other,
// fsname=, -f, -d, the mount point ...). See doc/operator-guide.md.
#pragma once

#include <string>

struct fuse_args;

namespace zhsm::fuse {

struct MountOptions {
  std::string controller;      // "host:port" of the controller; required
  double attr_timeout = 1.0;   // seconds the kernel may cache attributes
  double entry_timeout = 1.0;  // seconds the kernel may cache name lookups
  unsigned read_ahead_kb = 4096;  // the mount's readahead (client-fuse/readahead.h); 0: the kernel's
  unsigned statahead = 8;      // found lookups in a directory before it is read ahead
                               // (client-fuse/statahead.h); 0: never
  std::string log_file;        // empty: standard error
  std::string log_level = "info";
  std::string metrics;         // "host:port" of the Prometheus endpoint (port 0: any); empty: none
  std::string port_file;       // where to write "metrics=HOST:PORT" once bound; empty: nowhere
  unsigned release_delay_ms = 20;  // how long a closed file's release waits for others to
                                   // go with it (client-fuse/release_batcher.h); 0: alone, at once
};

// Removes zhsm's options from `args` into `out` and adds the options zhsm always
// mounts with (default_permissions, fsname=zhsm, subtype=zhsm; ones the user
// gave come later and win). Returns an empty string on success, else a message
// for the user. Not thread-safe (fuse_opt is not); call once from main.
std::string parse_mount_options(fuse_args* args, MountOptions& out);

}  // namespace zhsm::fuse
