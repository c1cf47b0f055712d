// Extended attributes, kept by the controller. getxattr/listxattr with size 0
// answer the size needed; a buffer too small is ERANGE; an absent name ENODATA.
// POSIX ACLs are not supported: their xattr names answer EOPNOTSUPP.
#include <sys/xattr.h>

#include <string>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

namespace {

void reply_sized(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0)
    fuse_reply_xattr(req, value.size());
  else if (size < value.size())
    fuse_reply_err(req, ERANGE);
  else
    fuse_reply_buf(req, value.data(), value.size());
}

// zhsm has no POSIX ACLs. The kernel hands the ACL xattrs of a FUSE file system
// that did not negotiate FUSE_POSIX_ACL to the file system as they are; stored as
// plain xattrs they would make programs believe an ACL was applied while nothing
// enforces it or keeps it in step with the mode. `cp -a` then skips its chmod (the
// ACL carries the mode) and every copy keeps its creation mode, 0600 or 0700.
// EOPNOTSUPP is what a file system without ACLs answers; cp, tar and rsync then
// fall back to chmod.
bool is_posix_acl(std::string_view name) {
  return name == "system.posix_acl_access" || name == "system.posix_acl_default";
}

void refuse_posix_acl(std::string_view name) {
  if (is_posix_acl(name)) throw Error(Errc::not_supported, "POSIX ACLs are not supported");
}

}  // namespace

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                 int flags) {
  guarded(req, "setxattr", ino, [&] {
    auto& m = mount_of(req);
    std::string_view n(name);
    if (n.empty() || n.size() > 255) throw Error(Errc::range, "bad xattr name length");
    refuse_posix_acl(n);
    m.xattrs().forget(ino);
    m.fresh_dirs().forget(ino);
    m.commit_held(ino);  // the controller checks the caller against the mode it knows
    m.controller().call([&](proto::Request::Builder rq) {
      auto x = rq.initSetxattr();
      x.setIno(ino);
      x.setName(as_data(n));
      x.setValue(as_data(std::string_view(value, size)));
      x.setCreate((flags & XATTR_CREATE) != 0);
      x.setReplace((flags & XATTR_REPLACE) != 0);
    }, Retry::once);
    // Again: a getxattr that asked between the first forget and the change must not
    // keep its "absent" (the epoch moves, so its answer is dropped).
    m.xattrs().forget(ino);
    fuse_reply_err(req, 0);
  });
}

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  guarded(req, "getxattr", ino, [&] {
    auto& m = mount_of(req);
    std::string_view n(name);
    refuse_posix_acl(n);
    // The kernel asks for security.capability before every write: known absent, the
    // question stays here (xattr_cache.h).
    XattrCache& known = m.xattrs();
    const auto asked = XattrCache::Clock::now();
    if (known.known_absent(ino, n, asked)) {
      fuse_reply_err(req, ENODATA);
      return;
    }
    const uint64_t epoch = known.epoch();
    Reply r;
    try {
      r = m.controller().call([&](proto::Request::Builder rq) {
        auto x = rq.initGetxattr();
        x.setIno(ino);
        x.setName(as_data(n));
      }, Retry::idempotent);
    } catch (const Error& e) {
      if (e.code() == Errc::no_data) known.note_absent(ino, n, asked, epoch);
      throw;
    }
    expect_response(r, proto::Response::XATTR);
    auto v = r.response().getXattr();
    reply_sized(req, std::string(reinterpret_cast<const char*>(v.begin()), v.size()), size);
  });
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  guarded(req, "listxattr", ino, [&] {
    auto& m = mount_of(req);
    XattrCache& known = m.xattrs();
    const auto asked = XattrCache::Clock::now();
    if (known.known_none(ino, asked)) {
      reply_sized(req, std::string(), size);
      return;
    }
    const uint64_t epoch = known.epoch();
    Reply r = m.controller().call([&](proto::Request::Builder rq) { rq.initListxattr().setIno(ino); },
                                  Retry::idempotent);
    expect_response(r, proto::Response::XATTR_NAMES);
    // cp -a and rsync -X list a file's attributes twice or more (its xattrs, its ACLs).
    if (r.response().getXattrNames().size() == 0) known.note_listed_none(ino, asked, epoch);
    std::string names;
    for (auto n : r.response().getXattrNames()) {
      names.append(reinterpret_cast<const char*>(n.begin()), n.size());
      names.push_back('\0');
    }
    reply_sized(req, names, size);
  });
}

void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  guarded(req, "removexattr", ino, [&] {
    auto& m = mount_of(req);
    std::string_view n(name);
    refuse_posix_acl(n);
    m.xattrs().forget(ino);
    m.fresh_dirs().forget(ino);
    m.commit_held(ino);  // the controller checks the caller against the mode it knows
    m.controller().call([&](proto::Request::Builder rq) {
      auto x = rq.initRemovexattr();
      x.setIno(ino);
      x.setName(as_data(n));
    }, Retry::once);
    fuse_reply_err(req, 0);
  });
}

}  // namespace zhsm::fuse
