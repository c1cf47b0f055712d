// Directory listing. Offsets: "." is answered with next offset 1, ".." with 2,
// and every controller entry with its cookie (>= 3), so a listing resumes after
// the last entry the kernel kept, and stays stable while entries come and go.
//
// The kernel asks for one small buffer at a time (a page or so: a few dozen
// entries), so each open directory keeps the last page the controller answered
// (up to 1000 entries, DirHandle) and serves the kernel's next calls from it;
// the controller is asked again only when the kernel moves past the page, on a
// rewind (offset 0), when readdirplus follows a plain page, or when readdirplus
// finds a page older than the attribute timeout (readdirplus hands its
// attributes to the kernel's cache, for what is left of that timeout). A directory of N entries costs N / 1000 controller calls.
// readdirplus entries count as lookups, and lookups need no counting here:
// inode numbers are stable.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

namespace {

constexpr uint32_t kPageEntries = 1000;  // the controller's cap per answer

// What one open directory keeps between the kernel's readdir calls.
struct DirHandle {
  struct Entry {
    std::string name;
    uint64_t cookie = 0;
    struct stat st {};  // ino and type; everything with `plus`
  };
  std::mutex mu;  // guards everything below (the kernel may call concurrently)
  bool have_page = false;
  bool plus = false;
  uint64_t after = 0;          // the page holds the entries with cookie > after ...
  std::vector<Entry> entries;  // ... in cookie order
  bool eof = false;            // ... and nothing follows the last one
  uint64_t parent_ino = 0;
  std::chrono::steady_clock::time_point fetched;
};

DirHandle* dir_handle(const fuse_file_info* fi) {
  return reinterpret_cast<DirHandle*>(static_cast<uintptr_t>(fi->fh));
}

// Replaces the handle's page by the entries after cookie `after`. Requires h.mu.
void fetch(Mount& m, fuse_ino_t ino, DirHandle& h, uint64_t after, bool plus) {
  Reply r = m.controller().call([&](proto::Request::Builder rq) {
    auto d = rq.initReaddir();
    d.setIno(ino);
    d.setAfter(after);
    d.setMaxEntries(kPageEntries);
    d.setPlus(plus);
  }, Retry::idempotent);
  expect_response(r, proto::Response::READDIR);
  auto page = r.response().getReaddir();
  h.entries.clear();
  h.entries.reserve(page.getEntries().size());
  for (auto entry : page.getEntries()) {
    auto raw = entry.getName();
    DirHandle::Entry e;
    e.name.assign(reinterpret_cast<const char*>(raw.begin()), raw.size());
    e.cookie = entry.getCookie();
    if (plus) {
      e.st = stat_from(entry.getAttr());
    } else {
      e.st.st_ino = entry.getAttr().getIno();
      e.st.st_mode = type_bits(entry.getAttr().getType());
    }
    h.entries.push_back(std::move(e));
  }
  h.have_page = true;
  h.plus = plus;
  h.after = after;
  h.eof = page.getEof() || h.entries.empty();
  h.parent_ino = page.getParentIno() != 0 ? page.getParentIno() : ino;
  h.fetched = std::chrono::steady_clock::now();
}

// Whether the page can answer "entries after cookie `after`". Requires h.mu.
bool page_serves(Mount& m, const DirHandle& h, uint64_t after, bool plus) {
  // A readdirplus page has all a plain readdir needs (the kernel switches from plus
  // to plain after the first call of a listing unless lookups follow).
  if (!h.have_page || (plus && !h.plus)) return false;
  if (plus && std::chrono::steady_clock::now() - h.fetched >
                  std::chrono::duration<double>(m.options().attr_timeout))
    return false;
  if (after == h.after) return true;
  if (h.entries.empty() || after < h.after) return false;
  // Within the page, or right after its end when nothing follows.
  return after < h.entries.back().cookie || (after == h.entries.back().cookie && h.eof);
}

void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  guarded(req, plus ? "readdirplus" : "readdir", ino, [&] {
    auto& m = mount_of(req);
    DirHandle& h = *dir_handle(fi);
    // The lock is dropped before the reply: once the kernel has its answer, the
    // directory may be closed and the handle freed (releasedir, on another thread).
    std::unique_lock lock(h.mu);
    std::string buf(size, '\0');
    size_t used = 0;
    // `entry`: a real entry, whose attributes readdirplus hands to the kernel's
    // caches for what is left of their timeouts (the page may be a little old);
    // "." and ".." go with node id 0 (name and inode number only).
    double age = 0;
    auto add = [&](const char* name, const struct stat& st, off_t next, bool entry) {
      size_t room = size - used;
      size_t need;
      if (plus) {
        fuse_entry_param e{};
        e.attr = st;
        if (entry) {
          e.ino = st.st_ino;
          m.overlay(e.attr);
          e.attr_timeout = std::max(0.0, m.options().attr_timeout - age);
          e.entry_timeout = std::max(0.0, m.options().entry_timeout - age);
        }
        need = fuse_add_direntry_plus(req, buf.data() + used, room, name, &e, next);
      } else {
        need = fuse_add_direntry(req, buf.data() + used, room, name, &st, next);
      }
      if (need > room) return false;
      used += need;
      return true;
    };
    // A rewind starts afresh: what the directory holds now.
    if (off == 0) h.have_page = false;
    uint64_t after = off <= 2 ? 0 : static_cast<uint64_t>(off);
    if (!page_serves(m, h, after, plus)) fetch(m, ino, h, after, plus);
    age = std::chrono::duration<double>(std::chrono::steady_clock::now() - h.fetched).count();
    bool full = false;
    if (off < 2) {
      struct stat st{};
      st.st_mode = S_IFDIR;
      if (off < 1) {
        st.st_ino = ino;
        full = !add(".", st, 1, false);
      }
      if (!full) {
        st.st_ino = h.parent_ino;
        full = !add("..", st, 2, false);
      }
    }
    while (!full) {
      auto it = std::upper_bound(h.entries.begin(), h.entries.end(), after,
                                 [](uint64_t a, const DirHandle::Entry& e) { return a < e.cookie; });
      for (; it != h.entries.end(); ++it) {
        if (!add(it->name.c_str(), it->st, static_cast<off_t>(it->cookie), true)) {
          full = true;
          break;
        }
        after = it->cookie;
      }
      if (full || h.eof) break;
      fetch(m, ino, h, after, plus);
      age = 0;
    }
    lock.unlock();
    fuse_reply_buf(req, buf.data(), used);
  });
}

}  // namespace

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "opendir", ino, [&] {
    fi->fh = reinterpret_cast<uintptr_t>(new DirHandle);
    if (fuse_reply_open(req, fi) != 0) delete dir_handle(fi);  // interrupted: no release
  });
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  list(req, ino, size, off, fi, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  list(req, ino, size, off, fi, true);
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete dir_handle(fi);
  fuse_reply_err(req, 0);
}

void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  // Entries are changed by the controller; their durability is its log flush.
  guarded(req, "fsyncdir", ino, [&] {
    mount_of(req).sync();
    fuse_reply_err(req, 0);
  });
}

}  // namespace zhsm::fuse
