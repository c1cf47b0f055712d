// setLock and getLock on the wire (see lock_calls.h).
#include "client-fuse/lock_calls.h"

namespace zhsm::fuse {

LockAnswer lock_call(ControllerLink& controller, const LockRequest& r, bool probe) {
  Reply reply = controller.call(
      [&](proto::Request::Builder req) {
        auto l = probe ? req.initGetLock() : req.initSetLock();
        l.setIno(r.ino);
        l.setTokenId(r.token_id);
        l.setOwner(r.owner);
        l.setKind(r.kind);
        l.setType(r.type);
        l.setStart(r.start);
        l.setEnd(r.end);
        l.setPid(r.pid);
      },
      Retry::idempotent);
  expect_response(reply, proto::Response::LOCK);
  auto out = reply.response().getLock();
  LockAnswer a;
  a.granted = !probe && out.getGranted();
  if (out.hasConflict() && out.getConflict().getType() != proto::LockType::UNLOCK) {
    auto c = out.getConflict();
    a.conflict = true;
    a.type = c.getType();
    a.start = c.getStart();
    a.end = c.getEnd();
    a.pid = c.getPid();
  }
  return a;
}

}  // namespace zhsm::fuse
