// statfs: capacity of the cluster as the controller sums it up.
#include <sys/statvfs.h>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

void op_statfs(fuse_req_t req, fuse_ino_t ino) {
  guarded(req, "statfs", ino, [&] {
    auto& m = mount_of(req);
    Reply r = m.controller().call([&](proto::Request::Builder rq) { rq.setStatfs(); },
                                  Retry::idempotent);
    expect_response(r, proto::Response::STATFS);
    auto s = r.response().getStatfs();
    struct statvfs st{};
    unsigned long bsize = s.getBlockSize() != 0 ? s.getBlockSize() : 4096;
    st.f_bsize = bsize;
    st.f_frsize = bsize;
    st.f_blocks = s.getTotalBytes() / bsize;
    st.f_bfree = s.getFreeBytes() / bsize;
    st.f_bavail = st.f_bfree;
    constexpr uint64_t kFreeInodes = uint64_t{1} << 32;
    st.f_files = s.getFiles() + kFreeInodes;
    st.f_ffree = kFreeInodes;
    st.f_favail = kFreeInodes;
    st.f_namemax = 255;
    fuse_reply_statfs(req, &st);
  });
}

}  // namespace zhsm::fuse
