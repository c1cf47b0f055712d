// Text forms of protocol values that zhsm-admin prints in tables and JSON:
// UUIDs, digests, paths sent as bytes, file types and copy states. Malformed wire
// values (a UUID that is not 16 bytes) are shown, not hidden: as hex with a "?" mark.
#pragma once

#include <string>

#include "capnp/zhsm.capnp.h"

namespace zhsm::admin {

// Canonical 8-4-4-4-12 form; hex followed by "?" when the data is not 16 bytes.
std::string uuid_text(capnp::Data::Reader data);
// The first 8 hex digits of a UUID, for tables ("c0c0c0c0"); the full form when malformed.
std::string short_uuid_text(capnp::Data::Reader data);
// A path or name sent as Data, as its bytes (tables and JSON sanitize or replace what
// is not printable or not UTF-8).
std::string data_text(capnp::Data::Reader data);
// Lower-case hex of any byte string (SHA-256 digests).
std::string hex_text(capnp::Data::Reader data);
// "regular", "directory", "symlink", "fifo", "socket", "char_device", "block_device".
std::string file_type_name(proto::FileType type);
// The type letter `ls -l` shows: '-', 'd', 'l', 'p', 's', 'c', 'b'.
char file_type_letter(proto::FileType type);
// "current", "outdated", "target".
std::string copy_state_name(proto::CopyState state);

}  // namespace zhsm::admin
