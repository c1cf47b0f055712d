// The operation table and the edge helpers shared by all fuse_<op>.cc files.
#include "client-fuse/fuse_ops.h"

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

void reply_failure(fuse_req_t req, const char* op, uint64_t ino, Errc code, const char* message) {
  int err = errno_for(code);
  if (err == EIO)
    spdlog::debug("event=op_failed op={} ino={} code={} msg=\"{}\"", op, ino, errc_name(code), message);
  fuse_reply_err(req, err);
}

void reply_exception(fuse_req_t req, const char* op, uint64_t ino, const char* what) {
  spdlog::error("event=unexpected_exception op={} ino={} what=\"{}\"", op, ino, what);
  fuse_reply_err(req, EIO);
}

fuse_entry_param entry_for(Mount& mount, proto::Attr::Reader attr) {
  fuse_entry_param e;
  std::memset(&e, 0, sizeof e);
  e.ino = attr.getIno();
  e.generation = 0;
  e.attr = stat_from(attr);
  mount.overlay(e.attr, true);  // a controller's answer (lookup, create, mkdir, link, ...)
  e.attr_timeout = mount.options().attr_timeout;
  e.entry_timeout = mount.options().entry_timeout;
  return e;
}

void reply_entry(fuse_req_t req, Mount& mount, const Reply& reply, bool made_here) {
  expect_response(reply, proto::Response::ATTR);
  fuse_entry_param e = entry_for(mount, reply.response().getAttr());
  if (made_here) mount.xattrs().note_none(e.ino, XattrCache::Clock::now());
  fuse_reply_entry(req, &e);
}

const fuse_lowlevel_ops& operations() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o;
    std::memset(&o, 0, sizeof o);
    o.init = op_init;
    o.destroy = op_destroy;
    o.lookup = op_lookup;
    o.forget = op_forget;
    o.forget_multi = op_forget_multi;
    o.getattr = op_getattr;
    o.setattr = op_setattr;
    o.readlink = op_readlink;
    o.mknod = op_mknod;
    o.mkdir = op_mkdir;
    o.unlink = op_unlink;
    o.rmdir = op_rmdir;
    o.symlink = op_symlink;
    o.rename = op_rename;
    o.link = op_link;
    o.open = op_open;
    o.read = op_read;
    o.write = op_write;
    o.flush = op_flush;
    o.release = op_release;
    o.fsync = op_fsync;
    o.opendir = op_opendir;
    o.readdir = op_readdir;
    o.releasedir = op_releasedir;
    o.fsyncdir = op_fsyncdir;
    o.statfs = op_statfs;
    o.setxattr = op_setxattr;
    o.getxattr = op_getxattr;
    o.listxattr = op_listxattr;
    o.removexattr = op_removexattr;
    o.create = op_create;
    o.readdirplus = op_readdirplus;
    o.fallocate = op_fallocate;
    o.getlk = op_getlk;
    o.setlk = op_setlk;
    o.flock = op_flock;
    return o;
  }();
  return ops;
}

}  // namespace zhsm::fuse
