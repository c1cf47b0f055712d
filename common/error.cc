// Names and retry classes of the error codes.
#include "common/error.h"

namespace zhsm {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::not_found: return "not_found";
    case Errc::exists: return "exists";
    case Errc::not_empty: return "not_empty";
    case Errc::not_dir: return "not_dir";
    case Errc::is_dir: return "is_dir";
    case Errc::name_too_long: return "name_too_long";
    case Errc::invalid: return "invalid";
    case Errc::no_space: return "no_space";
    case Errc::permission: return "permission";
    case Errc::not_permitted: return "not_permitted";
    case Errc::no_data: return "no_data";
    case Errc::range: return "range";
    case Errc::too_many_links: return "too_many_links";
    case Errc::busy: return "busy";
    case Errc::stale: return "stale";
    case Errc::io: return "io";
    case Errc::bad_token: return "bad_token";
    case Errc::token_expired: return "token_expired";
    case Errc::disconnected: return "disconnected";
    case Errc::overloaded: return "overloaded";
    case Errc::timeout: return "timeout";
    case Errc::unimplemented: return "unimplemented";
    case Errc::internal: return "internal";
    case Errc::not_supported: return "not_supported";
    case Errc::cross_device: return "cross_device";
    case Errc::loop: return "loop";
  }
  return "unknown";
}

bool errc_retryable(Errc code) {
  switch (code) {
    case Errc::disconnected:
    case Errc::overloaded:
    case Errc::timeout:
    case Errc::token_expired:
      return true;
    default:
      return false;
  }
}

}  // namespace zhsm
