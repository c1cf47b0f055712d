// lookup and forget. Inode numbers are the controller's, stable and never reused,
// so there is no lookup count to keep: forget has nothing to do.
#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, "lookup", parent, [&] {
    auto& m = mount_of(req);
    auto n = checked_name(name);
    Reply r = m.controller().call([&](proto::Request::Builder rq) {
      auto l = rq.initLookup();
      l.setParent(parent);
      l.setName(as_data(n));
    }, Retry::idempotent);
    reply_entry(req, m, r);
  });
}

void op_forget(fuse_req_t req, fuse_ino_t, uint64_t) { fuse_reply_none(req); }

void op_forget_multi(fuse_req_t req, size_t, fuse_forget_data*) { fuse_reply_none(req); }

}  // namespace zhsm::fuse
