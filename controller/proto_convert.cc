// Wire <-> metadata value conversions (see proto_convert.h).
#include "controller/proto_convert.h"

#include <fmt/format.h>

#include "common/error.h"

namespace zhsm {
namespace {

capnp::Data::Reader data_of(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

}  // namespace

std::string bytes_arg(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

Uuid uuid_arg(capnp::Data::Reader data, std::string_view field) {
  auto id = Uuid::from_data(data);
  if (!id)
    throw Error(Errc::invalid, fmt::format("{} must be a 16-byte UUID, got {} bytes", field,
                                           data.size()));
  return *id;
}

Caller caller_arg(proto::Caller::Reader c) { return Caller{c.getUid(), c.getGid()}; }

BackendReport backend_arg(proto::BackendInfo::Reader b) {
  BackendReport r;
  r.id = uuid_arg(b.getId(), "backend id");
  r.name = b.getName();
  r.tier = b.getTier();
  r.path = b.getPath();
  r.total_bytes = b.getTotalBytes();
  r.free_bytes = b.getFreeBytes();
  r.used_bytes = b.getUsedBytes();
  r.object_count = b.getObjectCount();
  r.device_id = b.getDeviceId();
  return r;
}

ServerReport server_arg(proto::RegisterServer::Reader req) {
  ServerReport r;
  r.id = uuid_arg(req.getServerId(), "serverId");
  r.name = req.getName();
  r.address = req.getAddress();
  for (auto b : req.getBackends()) r.backends.push_back(backend_arg(b));
  return r;
}

ServerReport server_arg(proto::Heartbeat::Reader req) {
  ServerReport r;
  r.id = uuid_arg(req.getServerId(), "serverId");
  for (auto b : req.getBackends()) r.backends.push_back(backend_arg(b));
  for (auto d : req.getDeleted())
    r.deleted.push_back(
        ObjectAddr{uuid_arg(d.getBackend(), "deleted.backend"), uuid_arg(d.getUuid(), "deleted.uuid")});
  return r;
}

SetattrArgs setattr_arg(proto::Setattr::Reader s) {
  SetattrArgs a;
  a.ino = s.getIno();
  if (s.getSetMode()) a.mode = s.getMode();
  if (s.getSetUid()) a.uid = s.getUid();
  if (s.getSetGid()) a.gid = s.getGid();
  if (s.getSetSize()) a.size = s.getSize();
  if (s.getSetAtime()) {
    if (s.getAtimeNow())
      a.atime_now = true;
    else
      a.atime_ns = s.getAtimeNs();
  }
  if (s.getSetMtime()) {
    if (s.getMtimeNow())
      a.mtime_now = true;
    else
      a.mtime_ns = s.getMtimeNs();
  }
  return a;
}

RenameArgs rename_arg(proto::Rename::Reader r) {
  RenameArgs a;
  a.parent = r.getParent();
  a.name = bytes_arg(r.getName());
  a.new_parent = r.getNewParent();
  a.new_name = bytes_arg(r.getNewName());
  a.no_replace = r.getNoReplace();
  a.exchange = r.getExchange();
  return a;
}

CommitArgs commit_arg(proto::CommitData::Reader c) {
  CommitArgs a;
  a.ino = c.getIno();
  a.token_id = c.getTokenId();
  a.size = c.getSize();
  a.mtime_ns = c.getMtimeNs();
  for (auto u : c.getChunks()) {
    ChunkUpdateArgs ua;
    ua.index = u.getIndex();
    ua.uuid = uuid_arg(u.getUuid(), "chunk uuid");
    ua.version = u.getVersion();
    ua.size = u.getSize();
    ua.sha256 = bytes_arg(u.getSha256());
    ua.backend = uuid_arg(u.getBackend(), "chunk backend");
    a.chunks.push_back(std::move(ua));
  }
  a.set_inline = c.getSetInline();
  a.inline_data = bytes_arg(c.getInlineData());
  a.drop_inline = c.getDropInline();
  return a;
}

void fill_touched(proto::Response::Builder resp, const TouchedDirs& dirs) {
  if (dirs.empty()) return;
  auto list = resp.initTouched(static_cast<unsigned>(dirs.size()));
  for (unsigned i = 0; i < dirs.size(); ++i) fill_attr(list[i], dirs[i]);
}

void fill_attr(proto::Attr::Builder out, const InodeAttr& a) {
  out.setIno(a.ino);
  out.setFsid(a.fsid.data());
  out.setType(a.type);
  out.setMode(a.mode);
  out.setNlink(a.nlink);
  out.setUid(a.uid);
  out.setGid(a.gid);
  out.setSize(a.size);
  out.setRdev(a.rdev);
  out.setAtimeNs(a.atime_ns);
  out.setMtimeNs(a.mtime_ns);
  out.setCtimeNs(a.ctime_ns);
  out.setVersion(a.version);
}

void fill_copy(proto::CopyRef::Builder out, const CopyInfo& c) {
  out.setBackend(c.backend.data());
  out.setBackendName(c.backend_name);
  out.setServer(c.server.data());
  out.setServerName(c.server_name);
  out.setAddress(c.address);
  out.setState(c.state);
  out.setVersion(c.version);
}

void fill_chunks(capnp::List<proto::ChunkRef>::Builder out, const std::vector<ChunkInfo>& chunks) {
  for (size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    auto b = out[i];
    b.setIndex(c.index);
    b.setUuid(c.uuid.data());
    b.setVersion(c.version);
    b.setSize(c.size);
    b.setSha256(data_of(c.sha256));
    auto copies = b.initCopies(c.copies.size());
    for (size_t j = 0; j < c.copies.size(); ++j) fill_copy(copies[j], c.copies[j]);
  }
}

void fill_backend(proto::BackendInfo::Builder out, const BackendReport& b) {
  out.setId(b.id.data());
  out.setName(b.name);
  out.setTier(b.tier);
  out.setPath(b.path);
  out.setTotalBytes(b.total_bytes);
  out.setFreeBytes(b.free_bytes);
  out.setUsedBytes(b.used_bytes);
  out.setObjectCount(b.object_count);
  out.setDeviceId(b.device_id);
}

void fill_deletions(proto::HeartbeatReply::Builder out, const std::vector<ObjectAddr>& objects,
                    uint32_t interval_ms) {
  auto list = out.initDeleteObjects(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    list[i].setBackend(objects[i].backend.data());
    list[i].setUuid(objects[i].uuid.data());
  }
  out.setIntervalMs(interval_ms);
}

}  // namespace zhsm
