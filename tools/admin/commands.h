// The zhsm-admin subcommands, one file each (status.cc, file_info.cc). Each one
// asks the controller through `link`, prints to `out` either human-readable
// tables or, with `json`, one JSON document with exact numbers, and throws
// zhsm::Error when the controller cannot answer. main.cc parses the command
// line and maps errors to exit codes.
#pragma once

#include <ostream>
#include <string>

#include "tools/admin/controller_link.h"

namespace zhsm::admin {

// `zhsm-admin status`: servers, backends and cluster totals.
void run_status(ControllerLink& link, bool json, std::ostream& out);

// `zhsm-admin file info PATH`: `ns_path` is already a namespace path ("/a/b",
// see mount_path.h). Attributes, layout and every data object with its copies.
void run_file_info(ControllerLink& link, const std::string& ns_path, bool json,
                   std::ostream& out);

}  // namespace zhsm::admin
