// symlink and readlink: the target travels as bytes, stored by the controller.
#include <string>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

void op_symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  guarded(req, "symlink", parent, [&] {
    auto& m = mount_of(req);
    auto n = checked_name(name);
    std::string_view target(link);
    if (target.size() >= 4096) throw Error(Errc::name_too_long, "symlink target too long");
    Reply r = m.controller().call([&](proto::Request::Builder rq) {
      auto k = rq.initSymlink();
      k.setParent(parent);
      k.setName(as_data(n));
      k.setTarget(as_data(target));
      set_caller(k.initCaller(), req);
    }, Retry::once);
    reply_entry(req, m, r, true);
  });
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  guarded(req, "readlink", ino, [&] {
    auto& m = mount_of(req);
    Reply r = m.controller().call([&](proto::Request::Builder rq) { rq.initReadlink().setIno(ino); },
                                  Retry::idempotent);
    expect_response(r, proto::Response::READLINK);
    auto data = r.response().getReadlink();
    std::string target(reinterpret_cast<const char*>(data.begin()), data.size());
    fuse_reply_readlink(req, target.c_str());
  });
}

}  // namespace zhsm::fuse
