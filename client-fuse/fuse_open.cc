// open and create: ask the controller for access (a token plus the data layout),
// attach the handle to the inode's shared state. Close-to-open consistency: the
// kernel keeps its cached pages only when the inode's version is the one they
// were filled at (Mount::open_handle); otherwise they are dropped and so are
// the inode's cached attributes, so its size is asked anew. An open that reaches a
// file without names through a name the kernel still caches answers ESTALE, and the
// kernel looks the name up again.
#include <fcntl.h>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

namespace {

proto::AccessMode access_mode(int flags) {
  if (flags & O_APPEND) return proto::AccessMode::APPEND;
  switch (flags & O_ACCMODE) {
    case O_WRONLY: return proto::AccessMode::WRITE;
    case O_RDWR: return proto::AccessMode::READ_WRITE;
    default: return proto::AccessMode::READ;
  }
}

// An O_APPEND handle bypasses the page cache. Through the page cache the kernel splits a
// write at a page boundary when the page is not up to date, and every piece would be a
// separate append, so another mount's append could land between them (a torn line).
// Direct I/O sends each write whole (up to max_write, 1 MiB).
unsigned appends_whole(int flags) { return (flags & O_APPEND) != 0 ? 1 : 0; }

}  // namespace

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "open", ino, [&] {
    auto& m = mount_of(req);
    // O_TRUNC truncates whatever the access mode (Linux does so for O_RDONLY too, after
    // checking write permission); with atomic O_TRUNC the kernel counts on us to do it.
    bool truncate = (fi->flags & O_TRUNC) != 0;
    m.commit_held(ino);  // the controller checks this open against the mode it knows
    const bool open_here = m.open_files().find(ino) != nullptr;
    Reply r;
    try {
      r = m.controller().call([&](proto::Request::Builder rq) {
        auto o = rq.initOpen();
        o.setIno(ino);
        o.setMode(access_mode(fi->flags));
        o.setTruncate(truncate);
        // A read-only handle of an inline file reads the bytes of this answer: it needs no
        // token (and then no release) unless it takes a lock (OpenInode::lock_token).
        o.setInlineWithoutToken(access_mode(fi->flags) == proto::AccessMode::READ && !truncate);
      }, Retry::idempotent);
    } catch (const Error& e) {
      // The controller answers `stale` for an inode that is gone (doc/protocol.md). One
      // open here, reached through /proc/PID/fd, is a small file read without a token and
      // reclaimed since: no second look can find it.
      if (e.code() == Errc::stale && open_here) throw Error(Errc::not_found, e.what());
      throw;
    }
    expect_response(r, proto::Response::OPEN);
    FileHandle* h = m.open_handle(ino, r.response().getOpen(), truncate, (fi->flags & O_APPEND) != 0);
    // A file without names that is not open here, still kept by another mount's token,
    // was reached by a name the kernel cached before another mount renamed a file over it
    // (an editor's save): ESTALE, and the kernel looks the path up again (fuse_ops.h).
    if (r.response().getOpen().getAttr().getNlink() == 0 && !open_here) {
      m.release_handle(h);  // gives its token back
      throw Error(Errc::stale, fmt::format("open: inode {} has no name any more", ino));
    }
    fi->fh = reinterpret_cast<uintptr_t>(h);
    fi->keep_cache = h->keep_cache ? 1 : 0;
    fi->direct_io = appends_whole(fi->flags);
    // The kernel may still hold attributes from before another mount's close;
    // drop them (offset -1: attributes only, no page locks taken).
    if (!h->keep_cache)
      if (fuse_session* se = edge_of(req).session) fuse_lowlevel_notify_inval_inode(se, ino, -1, 0);
    if (fuse_reply_open(req, fi) != 0) m.release_handle(h);  // interrupted: no release will come
  });
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
               fuse_file_info* fi) {
  guarded(req, "create", parent, [&] {
    auto& m = mount_of(req);
    auto n = checked_name(name);
    bool truncate = (fi->flags & O_TRUNC) != 0;
    Reply r = m.controller().call([&](proto::Request::Builder rq) {
      auto c = rq.initCreate();
      c.setParent(parent);
      c.setName(as_data(n));
      c.setMode(mode & 07777);
      set_caller(c.initCaller(), req);
      c.setExclusive((fi->flags & O_EXCL) != 0);
      c.setTruncate(truncate);
      c.setAccess(access_mode(fi->flags));
    }, Retry::once);
    expect_response(r, proto::Response::OPEN);
    auto open = r.response().getOpen();
    uint64_t ino = open.getAttr().getIno();
    FileHandle* h = m.open_handle(ino, open, truncate, (fi->flags & O_APPEND) != 0);
    fi->fh = reinterpret_cast<uintptr_t>(h);
    fi->keep_cache = 0;
    fi->direct_io = appends_whole(fi->flags);
    fuse_entry_param e = entry_for(m, open.getAttr());
    // A file this create made has no extended attributes, so the kernel's question for
    // security.capability before each write stays here. Made: with O_EXCL always;
    // without, when the answer names the parent among the directories whose entries it
    // changed (doc/protocol.md). Otherwise the create opened a file that was there,
    // perhaps made by another mount, which may have some.
    bool made = (fi->flags & O_EXCL) != 0;
    for (auto dir : r.response().getTouched())
      if (dir.getIno() == parent) made = true;
    if (made) m.xattrs().note_none(ino, XattrCache::Clock::now());
    if (fuse_reply_create(req, &e, fi) != 0) m.release_handle(h);
  });
}

}  // namespace zhsm::fuse
