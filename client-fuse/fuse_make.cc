// mknod (regular files and fifos; sockets and devices are kept as metadata),
// mkdir and link: each answers the new entry.
#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  guarded(req, "mknod", parent, [&] {
    auto& m = mount_of(req);
    auto n = checked_name(name);
    Reply r = m.controller().call([&](proto::Request::Builder rq) {
      auto k = rq.initMknod();
      k.setParent(parent);
      k.setName(as_data(n));
      k.setType(file_type(mode));
      k.setMode(mode & 07777);
      k.setRdev(rdev);
      set_caller(k.initCaller(), req);
    }, Retry::once);
    reply_entry(req, m, r, true);
  });
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  guarded(req, "mkdir", parent, [&] {
    auto& m = mount_of(req);
    auto n = checked_name(name);
    Reply r = m.controller().call([&](proto::Request::Builder rq) {
      auto k = rq.initMkdir();
      k.setParent(parent);
      k.setName(as_data(n));
      k.setMode(mode & 07777);
      set_caller(k.initCaller(), req);
    }, Retry::once);
    reply_entry(req, m, r, true);
  });
}

void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  guarded(req, "link", ino, [&] {
    auto& m = mount_of(req);
    auto n = checked_name(newname);
    Reply r = m.controller().call([&](proto::Request::Builder rq) {
      auto k = rq.initLink();
      k.setIno(ino);
      k.setNewParent(newparent);
      k.setNewName(as_data(n));
    }, Retry::once);
    reply_entry(req, m, r);
  });
}

}  // namespace zhsm::fuse
