// TokenCopy <-> proto::Token, field by field (the MAC covers them all, so every
// field must travel back exactly as the controller signed it).
#include "client-fuse/token_copy.h"

#include "common/token.h"

namespace zhsm::fuse {

TokenCopy TokenCopy::from(proto::Token::Reader token) {
  TokenCopy t;
  t.id = token.getTokenId();
  if (auto f = Uuid::from_data(token.getFsid())) t.fsid = *f;
  t.ino = token.getIno();
  t.mode = token.getMode();
  t.expires_ms = token.getExpiresMs();
  t.client_id = token.getClientId();
  auto mac = token.getMac();
  t.mac.assign(reinterpret_cast<const char*>(mac.begin()), mac.size());
  return t;
}

void TokenCopy::write_to(proto::Token::Builder out) const {
  out.setTokenId(id);
  out.setFsid(fsid.data());
  out.setIno(ino);
  out.setMode(mode);
  out.setExpiresMs(expires_ms);
  out.setClientId(client_id);
  out.setMac(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(mac.data()), mac.size()));
}

bool TokenCopy::can_write() const { return token_allows(mode, true); }

}  // namespace zhsm::fuse
