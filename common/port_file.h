// The port file every daemon writes once it listens ("listen=HOST:PORT" and
// "metrics=HOST:PORT" lines), so that tools which asked for port 0 learn the real ones.
#pragma once

#include <string>

namespace zhsm {

// The host part of "host:port" (all of it when there is no colon).
std::string host_of(const std::string& address);

// Writes `content` to `path` through a temporary name and a rename, so a reader never
// sees half of it. Throws Error(io) naming the file.
void write_port_file(const std::string& path, const std::string& content);

}  // namespace zhsm
