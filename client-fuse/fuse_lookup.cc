// lookup and forget. Inode numbers are the controller's, stable and never reused,
// so there is no lookup count to keep: forget has nothing to do.
//
// A lookup is answered from the mount's statahead listing of the directory when one
// holds the name (statahead.h); otherwise it goes to the controller, and a directory
// whose names keep being found there is read ahead right after the answer. In a directory
// leased to this mount, a name it does not know is missing (dir_leases.h): answered here.
#include <algorithm>
#include <vector>

#include "client-fuse/fuse_handlers.h"

namespace zhsm::fuse {

namespace {

constexpr uint32_t kAheadPage = 1000;  // the controller's cap per readdir answer

// Reads directory `parent` with attributes, up to the statahead's bound, and hands the
// listing over; on failure the directory is left to be tried again later.
void read_ahead(Mount& m, uint64_t parent) noexcept {
  Statahead& ahead = m.statahead();
  const auto asked = Statahead::Clock::now();
  const uint64_t changes = m.controller().changes();
  std::vector<Statahead::Entry> entries;
  try {
    uint64_t after = 0;
    while (entries.size() < ahead.max_entries()) {
      Reply r = m.controller().call([&](proto::Request::Builder rq) {
        auto d = rq.initReaddir();
        d.setIno(parent);
        d.setAfter(after);
        d.setMaxEntries(static_cast<uint32_t>(
            std::min<size_t>(kAheadPage, ahead.max_entries() - entries.size())));
        d.setPlus(true);
      }, Retry::once);
      expect_response(r, proto::Response::READDIR);
      auto page = r.response().getReaddir();
      for (auto e : page.getEntries()) {
        auto raw = e.getName();
        std::string name(reinterpret_cast<const char*>(raw.begin()), raw.size());
        if (name == "." || name == "..") continue;
        entries.push_back(Statahead::Entry{std::move(name), stat_from(e.getAttr())});
        after = e.getCookie();
      }
      if (page.getEof() || page.getEntries().size() == 0) break;
    }
  } catch (const std::exception& e) {
    spdlog::debug("event=statahead_failed dir={} msg=\"{}\"", parent, e.what());
    ahead.abandon(parent);
    return;
  } catch (...) {
    spdlog::debug("event=statahead_failed dir={}", parent);
    ahead.abandon(parent);
    return;
  }
  spdlog::debug("event=statahead dir={} entries={}", parent, entries.size());
  ahead.fill(parent, std::move(entries), changes, asked);
}

double remaining(double timeout, Statahead::Clock::duration age) {
  return std::max(0.0, timeout - std::chrono::duration<double>(age).count());
}

}  // namespace

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, "lookup", parent, [&] {
    auto& m = mount_of(req);
    auto n = checked_name(name);
    Statahead& ahead = m.statahead();
    const auto asked = Statahead::Clock::now();
    const uint64_t changes = m.controller().changes();
    if (auto hit = ahead.find(parent, n, changes, asked)) {
      // An inode open here has local state the listing does not know: ask.
      if (!m.open_files().find(hit->st.st_ino)) {
        fuse_entry_param e;
        std::memset(&e, 0, sizeof e);
        e.ino = hit->st.st_ino;
        e.attr = hit->st;
        e.attr_timeout = remaining(m.options().attr_timeout, hit->age);
        e.entry_timeout = remaining(m.options().entry_timeout, hit->age);
        fuse_reply_entry(req, &e);
        return;
      }
    }
    if (m.dir_leases().known_missing(parent, n, asked, m.controller().connection_id())) {
      m.count_known_missing();
      m.count_failure("lookup", Errc::not_found);  // as if the controller had answered it
      fuse_reply_err(req, ENOENT);
      return;
    }
    Reply r = m.controller().call([&](proto::Request::Builder rq) {
      auto l = rq.initLookup();
      l.setParent(parent);
      l.setName(as_data(n));
    }, Retry::idempotent);
    reply_entry(req, m, r);
    if (ahead.note_found(parent, changes, asked)) read_ahead(m, parent);
  });
}

void op_forget(fuse_req_t req, fuse_ino_t, uint64_t) { fuse_reply_none(req); }

void op_forget_multi(fuse_req_t req, size_t, fuse_forget_data*) { fuse_reply_none(req); }

}  // namespace zhsm::fuse
