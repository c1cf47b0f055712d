// The file server's own UUID, kept in STATE_DIR/server-id so the controller knows the
// server again after a restart. Created (with the state directory) on first start.
#pragma once

#include <filesystem>

#include "common/uuid.h"

namespace zhsm::fileserver {

// Reads STATE_DIR/server-id, or creates the directory and the file with a fresh UUID.
// Throws Error(invalid) for a malformed file and Error(io) when it cannot be written.
Uuid load_or_create_server_id(const std::filesystem::path& state_dir);

}  // namespace zhsm::fileserver
