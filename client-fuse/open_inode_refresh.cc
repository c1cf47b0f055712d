// OpenInode refreshes of the data map while the file is open (tail -f on one mount while
// another appends): fresh attributes from the controller that show a size or mtime other
// than the view's mark the view stale, and the next read loads the current data map with
// dataMap first. The kernel drops its cached pages itself when it sees the new size or
// mtime (auto_inval_data). Local pending changes always win: a dirty view is not replaced.
#include <spdlog/spdlog.h>

#include "client-fuse/open_inode.h"

namespace zhsm::fuse {

void OpenInode::notice_attr(uint64_t size, int64_t mtime_ns) {
  if (dirty_shown_.load()) return;
  if (size != view_size_.load() || mtime_ns != view_mtime_ns_.load()) stale_.store(true);
}

void OpenInode::refresh_if_stale(uint64_t token_id) {
  std::unique_lock lock(mu_);
  if (!stale_.load() || dirty_ || !sessions_.empty() || !pending_.empty()) return;
  try {
    refresh_locked(token_id);
    spdlog::debug("event=data_map_refreshed ino={} size={}", ino_, size_);
  } catch (const std::exception& e) {
    spdlog::warn("event=data_map_refresh_failed ino={} msg=\"{}\"", ino_, e.what());
  }
}

void OpenInode::refresh_locked(uint64_t token_id) {
  for (int attempt = 0;; ++attempt) {
    TokenCopy t = token_for(token_id, false);
    try {
      Reply r = ctx_.controller.call(
          [&](proto::Request::Builder req) {
            auto d = req.initDataMap();
            d.setIno(ino_);
            d.setTokenId(t.id);
          },
          Retry::idempotent);
      expect_response(r, proto::Response::DATA_MAP);
      auto map = r.response().getDataMap();
      if (t.can_write()) take_write_target(map);
      load_view(map);
      return;
    } catch (const Error& e) {
      if (e.code() == Errc::token_expired && attempt == 0) {
        renew(t.id);
        continue;
      }
      throw;
    }
  }
}

}  // namespace zhsm::fuse
