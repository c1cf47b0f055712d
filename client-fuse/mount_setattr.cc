// Mount::setattr. A size change is a truncate: the controller cuts first, then
// the open state (this mount's, or a short-lived open of our own taken before
// the cut, so we still know how long the cut chunk's object is) rewrites the
// chunk the cut falls into and commits. Time changes commit pending writes
// first, in the same controller call (commitData's thenSetattr), so a later commit does
// not overwrite the explicit mtime.
#include <spdlog/spdlog.h>

#include "client-fuse/attr.h"
#include "client-fuse/mount.h"

namespace zhsm::fuse {

namespace {

struct stat getattr_of(ControllerLink& controller, uint64_t ino) {
  Reply r = controller.call([&](proto::Request::Builder req) { req.initGetattr().setIno(ino); },
                            Retry::idempotent);
  expect_response(r, proto::Response::ATTR);
  return stat_from(r.response().getAttr());
}

}  // namespace

struct stat Mount::setattr(uint64_t ino, const SetattrArgs& a, FileHandle* via) {
  fresh_dirs_.forget(ino);
  if (a.set_size) truncate(ino, a, via);
  bool others = a.set_mode || a.set_uid || a.set_gid || a.set_atime || a.set_mtime;
  if (!others) {
    struct stat st = getattr_of(*controller_, ino);
    overlay(st);
    return st;
  }
  auto fill = [&](proto::Setattr::Builder s) {
    s.setIno(ino);
    auto c = s.initCaller();
    c.setUid(a.caller_uid);
    c.setGid(a.caller_gid);
    s.setSetMode(a.set_mode);
    s.setMode(a.mode & 07777);
    s.setSetUid(a.set_uid);
    s.setUid(a.uid);
    s.setSetGid(a.set_gid);
    s.setGid(a.gid);
    s.setSetAtime(a.set_atime);
    s.setAtimeNs(a.atime_ns);
    s.setAtimeNow(a.atime_now);
    s.setSetMtime(a.set_mtime);
    s.setMtimeNs(a.mtime_ns);
    s.setMtimeNow(a.mtime_now);
    s.setTokenId(via ? via->token_id : 0);
  };
  // Unwritten data is committed first, so a later commit does not overwrite the explicit
  // mtime; the setattr rides along in the same call.
  if (a.set_mtime) {
    if (auto inode = via ? via->inode : open_files_->find(ino); inode && inode->dirty()) {
      uint64_t token = via && via->can_write ? via->token_id : inode->write_token();
      if (token != 0) {
        if (auto st = inode->commit_then(token, fill)) {
          overlay(*st);
          return *st;
        }
      }
    }
  }
  Reply r = controller_->call([&](proto::Request::Builder req) { fill(req.initSetattr()); },
                              Retry::idempotent);
  expect_response(r, proto::Response::ATTR);
  struct stat st = stat_from(r.response().getAttr());
  overlay(st);
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
