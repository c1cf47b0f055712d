// Controller attributes (proto::Attr) as struct stat, and the file type mapping.
#pragma once

#include <sys/stat.h>

#include "capnp/zhsm.capnp.h"

namespace zhsm::fuse {

struct stat stat_from(proto::Attr::Reader attr);
// S_IF* bits of a FileType.
mode_t type_bits(proto::FileType type);
// The FileType of S_IF* bits in `mode`; regular for anything unknown.
proto::FileType file_type(mode_t mode);

}  // namespace zhsm::fuse
