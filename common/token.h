// Access tokens: the controller signs, file servers verify, both with the
// cluster key (a secret file shared by the controller and every file server).
//
// The MAC is HMAC-SHA256 over this exact byte string, all integers little-endian:
//   "zhsm-token-v1" | tokenId u64 | fsid 16 bytes | ino u64 | mode u8 |
//   expiresMs u64 | clientId u64
// so a token cannot be altered in any field without the key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "capnp/zhsm.capnp.h"
#include "common/error.h"
#include "common/uuid.h"

namespace zhsm {

struct TokenFields {
  uint64_t token_id = 0;
  Uuid fsid;
  uint64_t ino = 0;
  proto::AccessMode mode = proto::AccessMode::READ;
  uint64_t expires_ms = 0;
  uint64_t client_id = 0;
};

// The cluster key: at least 32 random bytes. Loads the file or throws Error(invalid)
// with the path in the message.
std::string load_cluster_key(const std::filesystem::path& path);
// Writes a fresh random 32-byte key (hex encoded) to `path` with mode 0600.
void write_cluster_key(const std::filesystem::path& path);

// Fills `out` with the fields and their MAC.
void sign_token(const std::string& key, const TokenFields& fields, proto::Token::Builder out);

// Checks MAC and expiry. Returns ok, bad_token (MAC or shape wrong) or
// token_expired. Does not check mode or object: see token_allows().
Errc verify_token(const std::string& key, proto::Token::Reader token, uint64_t now_ms);

// Whether a token of mode `granted` may be used to write (true) or read (false).
bool token_allows(proto::AccessMode granted, bool write);

TokenFields token_fields(proto::Token::Reader token);

}  // namespace zhsm
