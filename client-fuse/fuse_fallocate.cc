// fallocate. zhsm stores no allocation (holes read as zeros and every write
// goes to a new object version anyway), so reserving space means nothing here:
// mode 0 makes the file at least offset + length bytes long (the new bytes are
// a hole) and FALLOC_FL_KEEP_SIZE is accepted and changes nothing. Modes that
// punch holes or move data (PUNCH_HOLE, ZERO_RANGE, COLLAPSE_RANGE,
// INSERT_RANGE) answer EOPNOTSUPP, never ENOSYS: ENOSYS would make the kernel
// refuse every later fallocate on this mount, mode 0 included.
#include <linux/falloc.h>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                  fuse_file_info* fi) {
  guarded(req, "fallocate", ino, [&] {
    if (mode & ~FALLOC_FL_KEEP_SIZE)
      throw Error(Errc::not_supported, "fallocate: only mode 0 and FALLOC_FL_KEEP_SIZE");
    if (offset < 0 || length <= 0 || offset > INT64_MAX - length)
      throw Error(Errc::invalid, "fallocate: bad offset or length");
    if (!(mode & FALLOC_FL_KEEP_SIZE)) {
      auto& m = mount_of(req);
      FileHandle* h = handle_of(fi);
      if (!h->can_write) throw Error(Errc::permission, "fallocate through a read-only open");
      const uint64_t end = static_cast<uint64_t>(offset) + static_cast<uint64_t>(length);
      // The kernel holds the inode lock around fallocate and writes of this
      // mount, so the size read here cannot change before the setattr below.
      Reply r = m.controller().call([&](proto::Request::Builder rq) { rq.initGetattr().setIno(ino); },
                                    Retry::idempotent);
      expect_response(r, proto::Response::ATTR);
      struct stat st = stat_from(r.response().getAttr());
      m.overlay(st);
      if (end > static_cast<uint64_t>(st.st_size)) {
        SetattrArgs a;
        const fuse_ctx* ctx = fuse_req_ctx(req);
        a.caller_uid = ctx->uid;
        a.caller_gid = ctx->gid;
        a.set_size = true;
        a.size = end;
        m.setattr(ino, a, h);
      }
    }
    fuse_reply_err(req, 0);
  });
}

}  // namespace zhsm::fuse
