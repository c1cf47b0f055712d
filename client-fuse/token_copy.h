// An access token held outside any Cap'n Proto message, so it can live as long
// as the open it belongs to and be written into every file-server request.
#pragma once

#include <cstdint>
#include <string>

#include "capnp/zhsm.capnp.h"
#include "common/uuid.h"

namespace zhsm::fuse {

struct TokenCopy {
  uint64_t id = 0;
  Uuid fsid;
  uint64_t ino = 0;
  proto::AccessMode mode = proto::AccessMode::READ;
  uint64_t expires_ms = 0;
  uint64_t client_id = 0;
  std::string mac;

  static TokenCopy from(proto::Token::Reader token);
  void write_to(proto::Token::Builder out) const;
  bool can_write() const;
};

}  // namespace zhsm::fuse
