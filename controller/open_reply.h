// The answer that hands out access to a file's data: an OpenReply (open, create and
// dataMap) with the attributes, the token signed under the cluster key, the inline bytes
// or the chunk list, and the write target.
#pragma once

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

}  // namespace zhsm
