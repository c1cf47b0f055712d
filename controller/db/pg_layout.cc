// Statements and row decoding for file layouts and placement candidates (see pg_layout.h).
#include "controller/db/pg_layout.h"

#include "controller/db/pg_meta_store.h"
#include "controller/db/pg_rows.h"

namespace zhsm {

void prepare_layout_statements(pqxx::connection& c) {
  c.prepare("layout_chunks",
            "SELECT k.idx, k.uuid, k.version, k.size, k.sha256, c.backend_id, b.name, s.id, "
            "s.name, s.address, c.state, c.version "
            "FROM chunks k LEFT JOIN chunk_copies c ON c.uuid = k.uuid "
            "LEFT JOIN backends b ON b.id = c.backend_id "
            "LEFT JOIN servers s ON s.id = b.server_id "
            "WHERE k.ino = $1 ORDER BY k.idx, c.state, c.backend_id");
  c.prepare("layout_inline", "SELECT inline_data FROM inodes WHERE ino = $1");
  c.prepare("layout_candidates", kCandidatesQuery);
}

const char* const kCandidatesQuery =
    "SELECT b.id, b.name, s.id, s.name, s.address, b.free_bytes, s.last_heartbeat "
    "FROM backends b JOIN servers s ON s.id = b.server_id";

std::vector<ChunkInfo> load_chunks(pqxx::transaction_base& tx, uint64_t ino) {
  std::vector<ChunkInfo> chunks;
  for (const auto& r : tx.exec_prepared("layout_chunks", static_cast<int64_t>(ino))) {
    uint64_t index = r[0].as<uint64_t>();
    if (chunks.empty() || chunks.back().index != index) {
      ChunkInfo c;
      c.index = index;
      c.uuid = uuid_of(r[1]);
      c.version = r[2].as<uint64_t>();
      c.size = r[3].as<uint64_t>();
      c.sha256 = bytes_of(r[4]);
      chunks.push_back(std::move(c));
    }
    if (r[5].is_null()) continue;
    CopyInfo copy;
    copy.backend = uuid_of(r[5]);
    copy.backend_name = r[6].c_str();
    copy.server = uuid_of(r[7]);
    copy.server_name = r[8].c_str();
    copy.address = r[9].c_str();
    copy.state = static_cast<proto::CopyState>(r[10].as<int>());
    copy.version = r[11].as<uint64_t>();
    chunks.back().copies.push_back(std::move(copy));
  }
  return chunks;
}

std::string load_inline(pqxx::work& tx, uint64_t ino, uint64_t size) {
  auto r = tx.exec_prepared("layout_inline", static_cast<int64_t>(ino));
  std::string data = r.empty() ? std::string() : bytes_of(r[0][0]);
  data.resize(size, '\0');
  return data;
}

std::vector<BackendCandidate> load_backend_candidates(pqxx::work& tx) {
  return candidates_from(tx.exec_prepared("layout_candidates"), 0);
}

std::vector<BackendCandidate> candidates_from(const pqxx::result& rows, int first) {
  std::vector<BackendCandidate> out;
  for (const auto& row : rows) {
    if (row[first].is_null()) continue;
    auto col = [&](int i) { return row[first + i]; };
    BackendCandidate c;
    c.where.backend = uuid_of(col(0));
    c.where.backend_name = col(1).c_str();
    c.where.server = uuid_of(col(2));
    c.where.server_name = col(3).c_str();
    c.where.address = col(4).c_str();
    c.free_bytes = col(5).as<uint64_t>();
    c.last_heartbeat_ms = col(6).as<int64_t>();
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace zhsm
