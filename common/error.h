// The failure taxonomy shared by every part: expected outcomes of namespace calls
// (not found, exists, ...) and logistics failures that say whether a retry can
// help. Errc mirrors proto::ErrorCode value for value, so it crosses the wire as is.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace zhsm {

enum class Errc : uint16_t {
  ok = 0,
  not_found,
  exists,
  not_empty,
  not_dir,
  is_dir,
  name_too_long,
  invalid,
  no_space,
  permission,
  not_permitted,
  no_data,
  range,
  too_many_links,
  busy,
  stale,
  io,
  bad_token,
  token_expired,
  disconnected,
  overloaded,
  timeout,
  unimplemented,
  internal,
  not_supported,
  cross_device,
  loop,
};

// Short stable name, e.g. "not_found", for logs and --json output.
std::string_view errc_name(Errc code);

// True when the same call may succeed if tried again (on a new connection or later).
bool errc_retryable(Errc code);

// An error that travels: thrown inside a request handler, it becomes the
// Response.error of that request; thrown by a client call, it says what the peer
// (or the transport) answered. `what()` is the human-readable message.
class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const { return code_; }

 private:
  Errc code_;
};

}  // namespace zhsm
