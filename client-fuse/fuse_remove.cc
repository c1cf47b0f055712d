// unlink, rmdir and rename (RENAME_NOREPLACE and RENAME_EXCHANGE go to the
// controller; RENAME_WHITEOUT is not supported). Tried once: a repeated unlink
// after a lost answer would report ENOENT for a removal that worked.
#include <linux/fs.h>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

namespace {

void remove_entry(fuse_req_t req, fuse_ino_t parent, const char* name, bool dir) {
  guarded(req, dir ? "rmdir" : "unlink", parent, [&] {
    auto& m = mount_of(req);
    auto n = checked_name(name);
    m.controller().call([&](proto::Request::Builder rq) {
      auto u = dir ? rq.initRmdir() : rq.initUnlink();
      u.setParent(parent);
      u.setName(as_data(n));
    }, Retry::once);
    fuse_reply_err(req, 0);
  });
}

}  // namespace

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  remove_entry(req, parent, name, false);
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  remove_entry(req, parent, name, true);
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
               const char* newname, unsigned int flags) {
  guarded(req, "rename", parent, [&] {
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
      throw Error(Errc::invalid, "unsupported rename flags");
    auto& m = mount_of(req);
    auto from = checked_name(name);
    auto to = checked_name(newname);
    // A moved directory's ctime changes, and the answer names only the parents.
    m.fresh_dirs().clear();
    m.controller().call([&](proto::Request::Builder rq) {
      auto k = rq.initRename();
      k.setParent(parent);
      k.setName(as_data(from));
      k.setNewParent(newparent);
      k.setNewName(as_data(to));
      k.setNoReplace((flags & RENAME_NOREPLACE) != 0);
      k.setExchange((flags & RENAME_EXCHANGE) != 0);
    }, Retry::once);
    fuse_reply_err(req, 0);
  });
}

}  // namespace zhsm::fuse
