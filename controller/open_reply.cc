// OpenReply building (see open_reply.h).
#include "controller/open_reply.h"

#include <algorithm>
#include <tuple>

#include "controller/proto_convert.h"

namespace zhsm {
namespace {

std::string host_of(const std::string& address) {
  auto colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

void order_copies_for_reads(OpenResult& result, const std::string& client_address,
                            const std::function<ReadHint(const Uuid& server)>& hint_of) {
  const std::string client_host = host_of(client_address);
  for (auto& chunk : result.chunks) {
    if (chunk.copies.size() < 2) continue;
    auto rank = [&](const CopyInfo& c) {
      const bool current = c.state == proto::CopyState::CURRENT && c.version == chunk.version;
      const bool near = !client_host.empty() && host_of(c.address) == client_host;
      const ReadHint hint = hint_of(c.server);
      return std::make_tuple(!current, hint.leaving, !near, hint.load);
    };
    std::stable_sort(chunk.copies.begin(), chunk.copies.end(),
                     [&](const CopyInfo& a, const CopyInfo& b) { return rank(a) < rank(b); });
  }
}

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
