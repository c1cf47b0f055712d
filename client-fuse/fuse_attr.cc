// getattr and setattr (chmod, chown, truncate by path or through a handle,
// utimens with explicit times, UTIME_NOW or UTIME_OMIT).
#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

namespace {

int64_t to_ns(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  guarded(req, "getattr", ino, [&] {
    auto& m = mount_of(req);
    if (auto fresh = m.fresh_dirs().take(ino, FreshDirs::Clock::now())) {
      // A directory this mount just changed: the change's answer carried its attributes.
      fuse_reply_attr(req, &fresh->st,
                      std::chrono::duration<double>(fresh->left).count());
      return;
    }
    struct stat st {};
    try {
      Reply r = m.controller().call(
          [&](proto::Request::Builder rq) { rq.initGetattr().setIno(ino); }, Retry::idempotent);
      expect_response(r, proto::Response::ATTR);
      st = stat_from(r.response().getAttr());
      m.overlay(st, true);
    } catch (const Error& e) {
      // fstat of a small file read without a token after it was unlinked and reclaimed.
      const bool gone = e.code() == Errc::not_found || e.code() == Errc::stale;
      if (!gone || !m.open_orphan_stat(ino, st)) throw;
    }
    fuse_reply_attr(req, &st, m.options().attr_timeout);
  });
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  guarded(req, "setattr", ino, [&] {
    auto& m = mount_of(req);
    SetattrArgs a;
    const fuse_ctx* ctx = fuse_req_ctx(req);
    a.caller_uid = ctx->uid;
    a.caller_gid = ctx->gid;
    if (to_set & FUSE_SET_ATTR_MODE) {
      a.set_mode = true;
      a.mode = attr->st_mode & 07777;
    }
    if (to_set & FUSE_SET_ATTR_UID) {
      a.set_uid = true;
      a.uid = attr->st_uid;
    }
    if (to_set & FUSE_SET_ATTR_GID) {
      a.set_gid = true;
      a.gid = attr->st_gid;
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
      if (attr->st_size < 0) throw Error(Errc::invalid, "negative size");
      a.set_size = true;
      a.size = static_cast<uint64_t>(attr->st_size);
    }
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
      a.set_atime = a.atime_now = true;
    } else if (to_set & FUSE_SET_ATTR_ATIME) {
      a.set_atime = true;
      a.atime_ns = to_ns(attr->st_atim);
    }
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
      a.set_mtime = a.mtime_now = true;
    } else if (to_set & FUSE_SET_ATTR_MTIME) {
      a.set_mtime = true;
      a.mtime_ns = to_ns(attr->st_mtim);
    }
    FileHandle* via = fi ? handle_of(fi) : nullptr;
    struct stat st = m.setattr(ino, a, via);
    fuse_reply_attr(req, &st, m.options().attr_timeout);
  });
}

}  // namespace zhsm::fuse
