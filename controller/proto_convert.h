// Translation between the wire (Cap'n Proto readers and builders of capnp/zhsm.capnp) and
// the plain values of the metadata interface (meta_types.h). Argument readers validate
// what they read (UUIDs must be 16 bytes) and throw Error(invalid) with the field name.
#pragma once

#include <string>
#include <string_view>

#include "capnp/zhsm.capnp.h"
#include "common/request_names.h"
#include "controller/meta_types.h"

namespace zhsm {

std::string bytes_arg(capnp::Data::Reader data);
Uuid uuid_arg(capnp::Data::Reader data, std::string_view field);
Caller caller_arg(proto::Caller::Reader caller);
BackendReport backend_arg(proto::BackendInfo::Reader info);
ServerReport server_arg(proto::RegisterServer::Reader req);
ServerReport server_arg(proto::Heartbeat::Reader req);
SetattrArgs setattr_arg(proto::Setattr::Reader req);
RenameArgs rename_arg(proto::Rename::Reader req);
CommitArgs commit_arg(proto::CommitData::Reader req);

void fill_attr(proto::Attr::Builder out, const InodeAttr& attr);
// Response.touched: the directories a change touched (nothing when there are none).
void fill_touched(proto::Response::Builder resp, const TouchedDirs& dirs);
void fill_copy(proto::CopyRef::Builder out, const CopyInfo& copy);
void fill_chunks(capnp::List<proto::ChunkRef>::Builder out, const std::vector<ChunkInfo>& chunks);
void fill_backend(proto::BackendInfo::Builder out, const BackendReport& backend);
void fill_deletions(proto::HeartbeatReply::Builder out, const std::vector<ObjectAddr>& objects,
                    uint32_t interval_ms);

}  // namespace zhsm
