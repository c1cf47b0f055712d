// What the lock and append requests (controller/handler_locks.cc) ask of PgMetaStore:
// resuming a client session after a reconnect, looking tokens up without changing them,
// and the data map of a file already open. Each is one short transaction; the lookups
// take no row locks.
#include <fmt/format.h>

#include "common/error.h"
#include "controller/db/pg_layout.h"
#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_rows.h"
#include "controller/meta_checks.h"
#include "controller/placement.h"

namespace zhsm {
namespace {

TokenInfo token_of_row(const pqxx::row& r) {
  TokenInfo info;
  info.token_id = r[0].as<uint64_t>();
  info.ino = r[1].as<uint64_t>();
  info.client_id = r[2].as<uint64_t>();
  info.mode = static_cast<proto::AccessMode>(r[3].as<int>());
  info.expires_ms = r[4].as<uint64_t>();
  info.fsid = uuid_of(r[5]);
  return info;
}

}  // namespace

void prepare_session_statements(pqxx::connection& c) {
  c.prepare("client_resume",
            "UPDATE clients SET name = $2, last_seen = $3 WHERE id = $1 RETURNING id");
  c.prepare("tok_find",
            "SELECT t.id, t.ino, t.client_id, t.mode, t.expires_at_ms, i.fsid FROM tokens t "
            "JOIN inodes i ON i.ino = t.ino WHERE t.id = ANY($1::bigint[])");
}

bool PgMetaStore::resume_client(uint64_t client_id, const std::string& name) {
  return txn("resumeClient", [&](InodeTxn& t) {
    return !t.tx()
                .exec_prepared("client_resume", static_cast<int64_t>(client_id), name, t.now_ms())
                .empty();
  });
}

std::vector<TokenInfo> PgMetaStore::find_tokens(const std::vector<uint64_t>& token_ids) {
  check_token_batch(token_ids);
  if (token_ids.empty()) return {};
  const std::string ids = bigint_array(token_ids);
  return txn("findTokens", [&](InodeTxn& t) {
    std::vector<TokenInfo> out;
    for (const auto& r : t.tx().exec_prepared("tok_find", ids)) out.push_back(token_of_row(r));
    return out;
  });
}

OpenResult PgMetaStore::data_map(uint64_t ino, uint64_t token_id) {
  const std::string ids = bigint_array({token_id});
  return txn("dataMap", [&](InodeTxn& t) {
    auto rows = t.tx().exec_prepared("tok_find", ids);
    if (rows.empty())
      throw Error(Errc::bad_token,
                  fmt::format("dataMap: token {} is unknown (released or expired)", token_id));
    TokenInfo token = token_of_row(rows[0]);
    if (token.ino != ino)
      throw Error(Errc::bad_token,
                  fmt::format("dataMap: token {} is not for inode {}", token_id, ino));
    if (static_cast<int64_t>(token.expires_ms) < t.now_ms())
      throw Error(Errc::token_expired, fmt::format("dataMap: token {} expired", token_id));
    InodeRow row = t.get(ino, false);
    OpenResult out;
    out.attr = row.attr;
    out.token = token;
    if (row.attr.type == proto::FileType::REGULAR) {
      out.chunks = load_chunks(t.tx(), ino);
      out.is_inline = out.chunks.empty() && row.attr.size <= settings_.inline_max;
      if (out.is_inline) out.inline_data = load_inline(t.tx(), ino, row.attr.size);
      if (grants_write(token.mode))
        out.write_target = choose_write_target(load_backend_candidates(t.tx()), t.now_ms(),
                                               options_.heartbeat_timeout_ms);
    }
    return out;
  });
}

}  // namespace zhsm
