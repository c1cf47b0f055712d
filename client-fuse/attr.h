// Controller attributes (proto::Attr) as struct stat, and the file type mapping.
#pragma once

#include <sys/stat.h>

#include <cstdint>

#include "capnp/zhsm.capnp.h"

namespace zhsm::fuse {

// What a setattr asks, without libfuse types.
struct SetattrArgs {
  uint32_t caller_uid = 0, caller_gid = 0;
  bool set_mode = false; uint32_t mode = 0;
  bool set_uid = false; uint32_t uid = 0;
  bool set_gid = false; uint32_t gid = 0;
  bool set_size = false; uint64_t size = 0;
  bool set_atime = false, atime_now = false; int64_t atime_ns = 0;
  bool set_mtime = false, mtime_now = false; int64_t mtime_ns = 0;
};

// Fills `s` for inode `ino` as a's caller with what `a` sets, and only that (no size: a
// truncate has its own call), so that a later fill on the same builder adds to it.
void fill_setattr(proto::Setattr::Builder s, uint64_t ino, const SetattrArgs& a);
// `later` applied after `into`: every field `later` sets replaces into's; the caller is
// later's.
void merge_setattr(SetattrArgs& into, const SetattrArgs& later);

struct stat stat_from(proto::Attr::Reader attr);
// S_IF* bits of a FileType.
mode_t type_bits(proto::FileType type);
// The FileType of S_IF* bits in `mode`; regular for anything unknown.
proto::FileType file_type(mode_t mode);

}  // namespace zhsm::fuse
