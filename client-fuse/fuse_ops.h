// The FUSE edge: the only code that includes libfuse's low-level API. Each
// fuse_<op>.cc holds one operation or a small group; this header gives them the
// shared helpers: the Mount behind a request, the guard that turns an escaped
// zhsm::Error into its errno (and anything else into EIO plus one log line), the
// name check, and entry replies. Every handler replies exactly once: the reply is
// its last statement, after everything that can throw.
#pragma once

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

#include <chrono>
#include <cstring>
#include <string_view>

#include <kj/exception.h>
#include <spdlog/spdlog.h>

#include "client-fuse/attr.h"
#include "client-fuse/errno_map.h"
#include "client-fuse/mount.h"

namespace zhsm::fuse {

// The operation table handed to fuse_session_new.
const fuse_lowlevel_ops& operations();

class LockKeeper;

// The session's user data: the mount, the session itself (for notifications) and the
// keeper of waiting lock requests (fuse_lock_keeper.h).
struct Edge {
  Mount& mount;
  fuse_session* session = nullptr;  // set by main() before the loop starts
  LockKeeper* locks = nullptr;      // set by main() before the loop starts
};

inline Edge& edge_of(fuse_req_t req) { return *static_cast<Edge*>(fuse_req_userdata(req)); }
inline Mount& mount_of(fuse_req_t req) { return edge_of(req).mount; }

inline FileHandle* handle_of(const fuse_file_info* fi) {
  return reinterpret_cast<FileHandle*>(static_cast<uintptr_t>(fi->fh));
}

// Replies with the errno of a failure; logs what is not an expected outcome.
void reply_failure(fuse_req_t req, const char* op, uint64_t ino, Errc code, const char* message);
void reply_exception(fuse_req_t req, const char* op, uint64_t ino, const char* what);

// Runs a handler's body, answers its failure, and counts the request in the mount's
// metrics (the mount is taken first: a reply frees the request).
template <class Body>
void guarded(fuse_req_t req, const char* op, uint64_t ino, Body&& body) noexcept {
  Mount& mount = mount_of(req);
  const auto start = std::chrono::steady_clock::now();
  try {
    body();
  } catch (const Error& e) {
    mount.count_failure(op, e.code());
    // ESTALE: `ino` (the parent of a name, the file of an open) no longer exists or has no
    // name, and the kernel reached it through a name it cached from before another mount
    // removed or replaced it. Linux then looks the whole path up again once; listings
    // that hold the inode go first, so that the new lookup reaches the controller.
    if (e.code() == Errc::stale) mount.statahead().forget_inode(ino);
    reply_failure(req, op, ino, e.code(), e.what());
  } catch (const kj::Exception& e) {
    mount.count_failure(op, Errc::internal);
    reply_exception(req, op, ino, e.getDescription().cStr());
  } catch (const std::exception& e) {
    mount.count_failure(op, Errc::internal);
    reply_exception(req, op, ino, e.what());
  } catch (...) {
    mount.count_failure(op, Errc::internal);
    reply_exception(req, op, ino, "unknown exception");
  }
  mount.count_request(op, std::chrono::steady_clock::now() - start);
}

// Throws Error(name_too_long) for names over 255 bytes.
inline std::string_view checked_name(const char* name) {
  std::string_view n(name);
  if (n.size() > 255) throw Error(Errc::name_too_long, "name longer than 255 bytes");
  return n;
}

inline capnp::Data::Reader as_data(std::string_view bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

inline void set_caller(proto::Caller::Builder caller, fuse_req_t req) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  caller.setUid(ctx->uid);
  caller.setGid(ctx->gid);
}

// The entry reply for attributes from the controller (generation 0, the
// mount's timeouts, the pending size overlaid).
fuse_entry_param entry_for(Mount& mount, proto::Attr::Reader attr);

// Replies to an entry-creating request (lookup, mknod, mkdir, symlink, link) with
// the attributes the controller answered; throws when the answer is not an Attr.
// `made_here`: the inode is new, made by this request, so it has no extended
// attributes yet (XattrCache::note_none).
void reply_entry(fuse_req_t req, Mount& mount, const Reply& reply, bool made_here = false);

}  // namespace zhsm::fuse
