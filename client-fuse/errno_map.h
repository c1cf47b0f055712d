// The one place where zhsm's failure taxonomy (Errc) becomes an errno. Only the
// FUSE edge (fuse_*.cc) calls this; everything below it speaks Errc.
#pragma once

#include "common/error.h"

namespace zhsm::fuse {

// The errno a FUSE reply carries for `code` (positive, never 0: Errc::ok maps to
// EIO because a handler that failed with "ok" is a bug). Pure and thread-safe.
int errno_for(Errc code);

}  // namespace zhsm::fuse
