// Errc -> errno. Expected namespace outcomes map to their POSIX errno; transport
// and server-side failures (disconnected, timeout, overloaded, internal, token
// problems) are EIO for the application: it cannot act on them differently.
#include "client-fuse/errno_map.h"

#include <cerrno>

namespace zhsm::fuse {

int errno_for(Errc code) {
  switch (code) {
    case Errc::not_found: return ENOENT;
    case Errc::exists: return EEXIST;
    case Errc::not_empty: return ENOTEMPTY;
    case Errc::not_dir: return ENOTDIR;
    case Errc::is_dir: return EISDIR;
    case Errc::name_too_long: return ENAMETOOLONG;
    case Errc::invalid: return EINVAL;
    case Errc::no_space: return ENOSPC;
    case Errc::permission: return EACCES;
    case Errc::not_permitted: return EPERM;
    case Errc::no_data: return ENODATA;
    case Errc::range: return ERANGE;
    case Errc::too_many_links: return EMLINK;
    case Errc::busy: return EBUSY;
    case Errc::stale: return ESTALE;
    case Errc::not_supported: return EOPNOTSUPP;
    case Errc::cross_device: return EXDEV;
    case Errc::loop: return EINVAL;
    case Errc::ok:
    case Errc::io:
    case Errc::bad_token:
    case Errc::token_expired:
    case Errc::disconnected:
    case Errc::overloaded:
    case Errc::timeout:
    case Errc::unimplemented:
    case Errc::internal:
      return EIO;
  }
  return EIO;
}

}  // namespace zhsm::fuse
