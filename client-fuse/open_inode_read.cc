// OpenInode reads: inline bytes from memory; chunked files piece by piece, from
// the chunk's open write session if there is one, else from a file server
// holding a current copy (trying the copies in turn). Holes and bytes past a
// chunk's size are zeros; nothing is read past the file size.
#include <algorithm>
#include <cstring>

#include "client-fuse/chunk_map.h"
#include "client-fuse/open_inode.h"

namespace zhsm::fuse {

namespace {
constexpr uint64_t kMaxReadObject = 4 << 20;
}

uint64_t OpenInode::read(uint64_t token_id, uint64_t offset, uint64_t length, char* out) {
  if (stale_.load()) refresh_if_stale(token_id);  // another mount changed the file
  std::shared_lock lock(mu_);
  uint64_t n = clip_to_size(offset, length, size_);
  if (n == 0) return 0;
  if (inline_) {
    uint64_t have = clip_to_size(offset, n, inline_data_.size());
    std::memcpy(out, inline_data_.data() + offset, have);
    std::memset(out + have, 0, n - have);
    return n;
  }
  for (const auto& p : map_range(offset, n, ctx_.geometry.chunk_size, kMaxReadObject))
    read_piece(token_id, p.index, p.chunk_offset, p.length, out + p.range_offset);
  return n;
}

void OpenInode::read_piece(uint64_t token_id, uint64_t index, uint64_t chunk_offset,
                           uint64_t length, char* out) {
  Errc error = Errc::ok;
  std::string message;
  uint64_t got = 0;  // bytes of out filled from the object; the rest reads as zeros
  struct ZeroRest {
    char* out;
    uint64_t length;
    uint64_t& got;
    ~ZeroRest() {
      if (got < length) std::memset(out + got, 0, length - got);
    }
  } zero_rest{out, length, got};
  if (auto s = sessions_.find(index); s != sessions_.end()) {
    uint64_t want = clip_to_size(chunk_offset, length, s->second.length);
    if (want == 0) return;
    try {
      s->second.pipe.drain();  // the read must see every write sent before it
    } catch (const Error& e) {
      data_failure("write", e.code(), e.what(), s->second.uuid, s->second.link->address());
    }
    got = read_object(*s->second.link, token_id, s->second.backend, s->second.uuid, chunk_offset,
                      want, s->second.id, out, error, message);
    if (error != Errc::ok)
      data_failure("read", error, message, s->second.uuid, s->second.link->address());
    return;
  }
  auto c = chunks_.find(index);
  if (c == chunks_.end()) return;  // a hole
  uint64_t want = clip_to_size(chunk_offset, length, c->second.size);
  if (want == 0) return;
  std::string server = "none";
  if (c->second.copies.empty()) message = "no current copy known";
  for (const auto& copy : c->second.copies) {
    server = copy.address;
    auto link = ctx_.servers.get(copy.address);
    error = Errc::ok;
    got = read_object(*link, token_id, copy.backend, c->second.uuid, chunk_offset, want, 0, out,
                      error, message);
    if (error == Errc::ok) return;
  }
  got = 0;
  data_failure("read", error == Errc::ok ? Errc::io : error, message, c->second.uuid, server);
}

uint64_t OpenInode::read_object(RpcClient& link, uint64_t token_id, const Uuid& backend,
                                const Uuid& uuid, uint64_t offset, uint64_t length,
                                uint64_t session_id, char* out, Errc& error,
                                std::string& message) {
  uint64_t done = 0;
  while (done < length) {
    uint64_t ask = std::min(length - done, kMaxReadObject);
    Reply r = server_call(link, token_id, false, [&](proto::Request::Builder req, const TokenCopy& t) {
      auto ro = req.initReadObject();
      t.write_to(ro.initToken());
      ro.setBackend(backend.data());
      ro.setUuid(uuid.data());
      ro.setOffset(offset + done);
      ro.setLength(static_cast<uint32_t>(ask));
      ro.setSessionId(session_id);
    });
    if (!r.ok() || r.response().which() != proto::Response::READ_OBJECT) {
      error = r.ok() ? Errc::internal : r.code();
      message = r.ok() ? "unexpected answer to readObject" : r.message();
      return done;
    }
    auto data = r.response().getReadObject();
    uint64_t got = std::min<uint64_t>(data.size(), ask);
    std::memcpy(out + done, data.begin(), got);
    done += got;
    if (got < ask) break;  // end of the object: the rest reads as zeros
  }
  return done;
}

}  // namespace zhsm::fuse
