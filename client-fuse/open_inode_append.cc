// OpenInode O_APPEND writes, atomic across the cluster (client-fuse/README.md, "Appends").
// Every mount appending to a file takes the cluster's `append` lock of the inode around
// one write: with the lock held it commits what it had pending (earlier writes land
// first), loads the file's current data map (dataMap), writes at the end and commits to
// the file server and the controller, so the next holder, on any mount, finds the data
// and the new size. Within a mount, append_mu_ lets one append of the inode at a time wait
// for the lock, so the mount never counts as two holders.
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "client-fuse/lock_calls.h"
#include "client-fuse/open_inode.h"

namespace zhsm::fuse {

namespace {

// The append lock's owner: one per mount (the client id tells mounts apart).
constexpr uint64_t kAppendOwner = 0;
// Polling while another mount appends: it holds the lock for one write and commit.
constexpr auto kFirstBackoff = std::chrono::milliseconds(5);
constexpr auto kMaxBackoff = std::chrono::milliseconds(200);

LockRequest append_lock(uint64_t ino, uint64_t token_id, proto::LockType type) {
  LockRequest r;
  r.ino = ino;
  r.token_id = token_id;
  r.owner = kAppendOwner;
  r.kind = proto::LockKind::APPEND;
  r.type = type;
  return r;
}

}  // namespace

uint64_t OpenInode::append(uint64_t token_id, const char* data, uint64_t length,
                           const std::function<bool()>& interrupted) {
  if (length == 0) return 0;
  std::lock_guard order(append_mu_);
  take_append_lock(token_id, interrupted);
  struct Release {
    OpenInode* self;
    uint64_t token;
    ~Release() { self->drop_append_lock(token); }
  } release{this, token_id};
  std::unique_lock lock(mu_);
  commit_locked(token_id);
  refresh_locked(token_id);
  write_locked(token_id, size_, data, length);
  commit_locked(token_id);
  return length;
}

void OpenInode::take_append_lock(uint64_t token_id, const std::function<bool()>& interrupted) {
  const LockRequest request = append_lock(ino_, token_id, proto::LockType::WRITE);
  auto backoff = kFirstBackoff;
  bool renewed = false;
  for (;;) {
    LockAnswer answer;
    try {
      answer = lock_call(ctx_.controller, request, false);
    } catch (const Error& e) {
      if (e.code() == Errc::token_expired && !renewed) {
        renewed = true;
        renew(token_id);
        continue;
      }
      spdlog::warn("event=append_lock_failed ino={} token={} code={} msg=\"{}\"", ino_, token_id,
                   errc_name(e.code()), e.what());
      throw Error(Errc::io, fmt::format("append lock of ino {}: {}", ino_, e.what()));
    }
    if (answer.granted) return;
    if (interrupted && interrupted()) throw Interrupted();
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void OpenInode::drop_append_lock(uint64_t token_id) {
  try {
    lock_call(ctx_.controller, append_lock(ino_, token_id, proto::LockType::UNLOCK), false);
  } catch (const std::exception& e) {
    // Still ours: the next append of this mount takes it again, and closing the file
    // releases the token and the lock with it.
    spdlog::warn("event=append_unlock_failed ino={} token={} msg=\"{}\"", ino_, token_id,
                 e.what());
  }
}

}  // namespace zhsm::fuse
