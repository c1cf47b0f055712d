// OpenReply building (see open_reply.h).
#include "controller/open_reply.h"

#include "controller/proto_convert.h"

namespace zhsm {

TokenFields token_fields_of(const TokenInfo& t) {
  TokenFields f;
  f.token_id = t.token_id;
  f.fsid = t.fsid;
  f.ino = t.ino;
  f.mode = t.mode;
  f.expires_ms = t.expires_ms;
  f.client_id = t.client_id;
  return f;
}

void fill_open_reply(proto::OpenReply::Builder out, const OpenResult& r, const std::string& key) {
  fill_attr(out.initAttr(), r.attr);
  sign_token(key, token_fields_of(r.token), out.initToken());
  out.setInline(r.is_inline);
  if (r.is_inline)
    out.setInlineData(capnp::Data::Reader(
        reinterpret_cast<const capnp::byte*>(r.inline_data.data()), r.inline_data.size()));
  fill_chunks(out.initChunks(r.chunks.size()), r.chunks);
  if (r.write_target) fill_copy(out.initWriteTarget(), *r.write_target);
  if (!r.write_targets.empty()) {
    auto list = out.initWriteTargets(static_cast<unsigned>(r.write_targets.size()));
    for (size_t i = 0; i < r.write_targets.size(); ++i) fill_copy(list[i], r.write_targets[i]);
  }
}

}  // namespace zhsm
