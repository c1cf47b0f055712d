// Directory listing. Offsets: "." is answered with next offset 1, ".." with 2,
// and every controller entry with its cookie (>= 3), so a listing resumes after
// the last entry the kernel kept, and stays stable while entries come and go.
// The controller is paged with `after` until the kernel's buffer is full.
// readdirplus entries carry full attributes (they count as lookups, and lookups
// need no counting here: inode numbers are stable).
#include <algorithm>
#include <string>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

namespace {

void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
  guarded(req, plus ? "readdirplus" : "readdir", ino, [&] {
    auto& m = mount_of(req);
    std::string buf(size, '\0');
    size_t used = 0;
    auto add = [&](const char* name, const struct stat& st, const fuse_entry_param* e,
                   off_t next) {
      size_t room = size - used;
      size_t need = plus ? fuse_add_direntry_plus(req, buf.data() + used, room, name, e, next)
                         : fuse_add_direntry(req, buf.data() + used, room, name, &st, next);
      if (need > room) return false;
      used += need;
      return true;
    };
    uint64_t after = off <= 2 ? 0 : static_cast<uint64_t>(off);
    uint32_t per_page = static_cast<uint32_t>(std::clamp<size_t>(size / (plus ? 160 : 32), 16, 1024));
    bool full = false, first = true, eof = false;
    while (!full && !eof) {
      Reply r = m.controller().call([&](proto::Request::Builder rq) {
        auto d = rq.initReaddir();
        d.setIno(ino);
        d.setAfter(after);
        d.setMaxEntries(per_page);
        d.setPlus(plus);
      }, Retry::idempotent);
      expect_response(r, proto::Response::READDIR);
      auto page = r.response().getReaddir();
      if (first && off < 2) {
        first = false;
        struct stat st{};
        st.st_mode = S_IFDIR;
        fuse_entry_param dot{};
        if (off < 1) {
          st.st_ino = ino;
          dot.attr = st;
          if (!add(".", st, &dot, 1)) break;
        }
        st.st_ino = page.getParentIno() != 0 ? page.getParentIno() : ino;
        dot.attr = st;
        if (!add("..", st, &dot, 2)) break;
      }
      first = false;
      for (auto entry : page.getEntries()) {
        auto raw = entry.getName();
        std::string name(reinterpret_cast<const char*>(raw.begin()), raw.size());
        fuse_entry_param e{};
        if (plus) {
          e = entry_for(m, entry.getAttr());
        } else {
          e.attr.st_ino = entry.getAttr().getIno();
          e.attr.st_mode = type_bits(entry.getAttr().getType());
        }
        if (!add(name.c_str(), e.attr, &e, static_cast<off_t>(entry.getCookie()))) {
          full = true;
          break;
        }
        after = entry.getCookie();
      }
      eof = page.getEof() || page.getEntries().size() == 0;
    }
    fuse_reply_buf(req, buf.data(), used);
  });
}

}  // namespace

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  fi->fh = 0;
  fuse_reply_open(req, fi);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  list(req, ino, size, off, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  list(req, ino, size, off, true);
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

void op_fsyncdir(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) { fuse_reply_err(req, 0); }

}  // namespace zhsm::fuse
