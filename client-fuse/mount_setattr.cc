// Mount::setattr. A size change is a truncate: the controller cuts first, then
// the open state (this mount's, or a short-lived open of our own taken before
// the cut, so we still know how long the cut chunk's object is) rewrites the
// chunk the cut falls into and commits. A change of mode or explicit times to a file
// with writes pending here is held and goes with their commit (OpenInode::hold_attr);
// other time changes commit pending writes first, in the same controller call
// (commitData's thenSetattr), so a later commit does not overwrite the explicit mtime.
#include <spdlog/spdlog.h>

#include "client-fuse/attr.h"
#include "client-fuse/mount.h"
#include "common/clock.h"

namespace zhsm::fuse {

namespace {

struct stat getattr_of(ControllerLink& controller, uint64_t ino) {
  Reply r = controller.call([&](proto::Request::Builder req) { req.initGetattr().setIno(ino); },
                            Retry::idempotent);
  expect_response(r, proto::Response::ATTR);
  return stat_from(r.response().getAttr());
}

// A change that may wait for the data's commit: mode (without setuid and setgid, whose
// rules apply at once) and explicit times; no owner, size or UTIME_NOW.
bool holdable(const SetattrArgs& a) {
  if (a.set_uid || a.set_gid || a.set_size || a.atime_now || a.mtime_now) return false;
  if (a.set_mode && (a.mode & 06000) != 0) return false;
  return a.set_mode || a.set_atime || a.set_mtime;
}

}  // namespace

struct stat Mount::setattr(uint64_t ino, const SetattrArgs& a, FileHandle* via) {
  fresh_dirs_.forget(ino);
  std::shared_ptr<OpenInode> open = via ? via->inode : open_files_->find(ino);
  // A change of mode or explicit times to a file with writes not yet committed here waits
  // for their commit and goes with it (OpenInode::hold_attr; the kernel checked the
  // caller's right to it, default_permissions).
  if (holdable(a) && open && open->hold_attr(a, now_ns())) {
    struct stat st = open->last_stat();
    overlay(st);
    return st;
  }
  const uint64_t open_token =
      !open ? 0 : via && via->can_write ? via->token_id : open->write_token();
  // Anything else goes after what is held: a truncate after its commit, the rest in the
  // commit's call (below).
  const bool held = open && open->held_attr();
  if (a.set_size && held && open_token != 0) open->commit(open_token);
  if (a.set_size) truncate(ino, a, via);
  bool others = a.set_mode || a.set_uid || a.set_gid || a.set_atime || a.set_mtime;
  if (!others) {
    struct stat st = getattr_of(*controller_, ino);
    overlay(st, true);
    return st;
  }
  // Only what is set: the commit's thenSetattr may carry held changes in front of it.
  auto fill = [&](proto::Setattr::Builder s) {
    fill_setattr(s, ino, a);
    s.setTokenId(via ? via->token_id : 0);
  };
  // Unwritten data is committed first, so a later commit does not overwrite an explicit
  // mtime; the setattr rides along in the same call, after what is held.
  if (open_token != 0 && !a.set_size && (held || (a.set_mtime && open->dirty()))) {
    if (auto st = open->commit_then(open_token, fill)) {
      overlay(*st, true);
      return *st;
    }
  }
  Reply r = controller_->call([&](proto::Request::Builder req) { fill(req.initSetattr()); },
                              Retry::idempotent);
  expect_response(r, proto::Response::ATTR);
  struct stat st = stat_from(r.response().getAttr());
  overlay(st, true);
  return st;
}

void Mount::truncate(uint64_t ino, const SetattrArgs& a, FileHandle* via) {
  const uint64_t size = a.size;
  std::shared_ptr<OpenInode> inode = via ? via->inode : open_files_->find(ino);
  uint64_t token = 0;
  if (inode) token = via && via->can_write ? via->token_id : inode->write_token();

  FileHandle* own = nullptr;
  if (token == 0 && (size > 0 || inode)) {
    Reply r = controller_->call([&](proto::Request::Builder req) {
      auto o = req.initOpen();
      o.setIno(ino);
      o.setMode(proto::AccessMode::WRITE);
    }, Retry::idempotent);
    expect_response(r, proto::Response::OPEN);
    own = open_handle(ino, r.response().getOpen(), false, false);
    inode = own->inode;
    token = own->token_id;
  }
  try {
    controller_->call([&](proto::Request::Builder req) {
      auto s = req.initSetattr();
      s.setIno(ino);
      auto c = s.initCaller();
      c.setUid(a.caller_uid);
      c.setGid(a.caller_gid);
      s.setSetSize(true);
      s.setSize(size);
      s.setTokenId(token);
    }, Retry::idempotent);
    if (inode && token != 0) inode->truncate(token, size);
  } catch (...) {
    if (own) release_handle(own);
    throw;
  }
  if (own) release_handle(own);
}

}  // namespace zhsm::fuse
