// The controller process from configuration to shutdown: connect and migrate the
// database, serve RPC and metrics, sweep, and stop cleanly on SIGINT/SIGTERM.
#pragma once

#include "controller/config.h"

namespace zhsm {

// Runs until a signal asks it to stop; returns the process exit code. Throws
// zhsm::Error for start-up failures (unreachable database, unreadable key, address in use).
int run_controller(const ControllerConfig& config);

}  // namespace zhsm
