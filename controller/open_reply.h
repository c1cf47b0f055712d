// The answer that hands out access to a file's data: an OpenReply (open, create and
// dataMap) with the attributes, the token signed under the cluster key, the inline bytes
// or the chunk list, and the write target.
#pragma once

#include <functional>
#include <string>

#include "capnp/zhsm.capnp.h"
#include "common/token.h"
#include "controller/meta_types.h"

namespace zhsm {

// The fields of a recorded token, as common/token.h signs them.
TokenFields token_fields_of(const TokenInfo& token);

// Fills `out` from `result`, signing its token with `key`.
void fill_open_reply(proto::OpenReply::Builder out, const OpenResult& result,
                     const std::string& key);

// Orders each chunk's copies the way readers should try them (they take the first that
// answers): current copies first, then those on servers that are not leaving, then those
// on the reader's own host (`client_address`, "host:port"), then the least loaded.
void order_copies_for_reads(OpenResult& result, const std::string& client_address,
                            const std::function<ReadHint(const Uuid& server)>& hint_of);

}  // namespace zhsm
