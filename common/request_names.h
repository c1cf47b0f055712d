// The request kinds of capnp/zhsm.capnp as short names, for logs and metrics (the
// controller's, and the client's view of its calls).
#pragma once

#include <string_view>

#include "capnp/zhsm.capnp.h"

namespace zhsm {

// The request's kind as a short name ("lookup", "commitData", ...): a string literal, so
// data() is null-terminated and lives as long as the program.
std::string_view request_name(proto::Request::Which which);

}  // namespace zhsm
