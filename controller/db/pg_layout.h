// Reading a file's data layout inside a transaction: its chunks with every copy and the
// server serving it, its inline bytes, and the backends new data could go to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/result>
#include <pqxx/transaction>

#include "controller/meta_types.h"
#include "controller/placement.h"

namespace zhsm {

// Chunks of `ino` ascending by index, each with its copies (current first).
std::vector<ChunkInfo> load_chunks(pqxx::transaction_base& tx, uint64_t ino);

// The inline bytes of `ino` zero-padded (or cut) to `size`.
std::string load_inline(pqxx::work& tx, uint64_t ino, uint64_t size);

// Every backend with its server's identity, address and last heartbeat.
std::vector<BackendCandidate> load_backend_candidates(pqxx::work& tx);

// The query load_backend_candidates runs, for a statement that reads the candidates
// along with other work: kCandidateColumnCount columns, one row per backend.
extern const char* const kCandidatesQuery;
inline constexpr int kCandidateColumnCount = 7;

// The candidates in the rows of `r`, their columns starting at `first`; rows whose first
// candidate column is NULL are skipped (an outer join that found no backend).
std::vector<BackendCandidate> candidates_from(const pqxx::result& r, int first);

}  // namespace zhsm
