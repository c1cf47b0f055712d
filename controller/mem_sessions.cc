// What the lock and append requests (controller/handler_locks.cc) ask of MemMetaStore:
// resuming a client session after a reconnect, looking tokens up without changing them,
// and the data map of a file already open. Follows controller/db/pg_sessions.cc.
#include <fmt/format.h>

#include "common/error.h"
#include "controller/mem_meta_store.h"
#include "controller/meta_checks.h"

namespace zhsm {

bool MemMetaStore::resume_client(uint64_t client_id, const std::string& name) {
  auto lock = begin();
  auto it = clients_.find(client_id);
  if (it == clients_.end()) return false;
  it->second = Client{name, now_ms()};
  return true;
}

std::vector<TokenInfo> MemMetaStore::find_tokens(const std::vector<uint64_t>& token_ids) {
  check_token_batch(token_ids);
  auto lock = begin();
  std::vector<TokenInfo> out;
  for (uint64_t id : token_ids) {
    auto it = tokens_.find(id);
    if (it == tokens_.end()) continue;
    const Token& t = it->second;
    out.push_back(TokenInfo{id, get(t.ino).attr.fsid, t.ino, t.mode,
                            static_cast<uint64_t>(t.expires_ms), t.client_id});
  }
  return out;
}

OpenResult MemMetaStore::data_map(uint64_t ino, uint64_t token_id) {
  auto lock = begin();
  auto it = tokens_.find(token_id);
  if (it == tokens_.end())
    throw Error(Errc::bad_token,
                fmt::format("dataMap: token {} is unknown (released or expired)", token_id));
  const Token& t = it->second;
  if (t.ino != ino)
    throw Error(Errc::bad_token, fmt::format("dataMap: token {} is not for inode {}", token_id, ino));
  if (t.expires_ms < now_ms())
    throw Error(Errc::token_expired, fmt::format("dataMap: token {} expired", token_id));
  const Inode& inode = get(ino);
  OpenResult out;
  out.attr = inode.attr;
  out.token = TokenInfo{token_id, inode.attr.fsid, ino, t.mode,
                        static_cast<uint64_t>(t.expires_ms), t.client_id};
  if (inode.attr.type == proto::FileType::REGULAR) {
    out.chunks = load_chunks(ino);
    out.is_inline = out.chunks.empty() && inode.attr.size <= settings_.inline_max;
    if (out.is_inline) out.inline_data = load_inline(inode);
    if (grants_write(t.mode))
      out.write_target =
          choose_write_target(backend_candidates(), now_ms(), options_.heartbeat_timeout_ms);
  }
  return out;
}

}  // namespace zhsm
