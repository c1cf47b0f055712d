// Parked blocking lock requests and the POSIX owner notes (see fuse_lock_keeper.h).
#include "client-fuse/fuse_lock_keeper.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "client-fuse/errno_map.h"
#include "client-fuse/fuse_ops.h"

namespace zhsm::fuse {

namespace {
constexpr auto kFirstBackoff = std::chrono::milliseconds(5);
constexpr auto kMaxBackoff = std::chrono::milliseconds(200);
}  // namespace

LockAnswer LockKeeper::call(OpenInode& inode, const LockRequest& request, bool probe) {
  try {
    return lock_call(mount_.controller(), request, probe);
  } catch (const Error& e) {
    if (e.code() != Errc::token_expired) throw;
  }
  inode.renew_tokens();
  return lock_call(mount_.controller(), request, probe);
}

void LockKeeper::park(fuse_req_t req, const LockRequest& request,
                      std::shared_ptr<OpenInode> inode) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      id = next_id_++;
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    }
  }
  if (id == 0) {
    fuse_reply_err(req, EINTR);
    return;
  }
  // Registered before the wait is visible to the polling thread, which may answer (and
  // so free) the request at once; an interrupt that comes in between is seen below.
  fuse_req_interrupt_func(req, &LockKeeper::on_interrupt,
                          reinterpret_cast<void*>(static_cast<uintptr_t>(id)));
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      Wait w;
      w.req = req;
      w.request = request;
      w.inode = std::move(inode);
      w.backoff = kFirstBackoff;
      w.next = Clock::now() + w.backoff;
      w.interrupted = fuse_req_interrupted(req) != 0;
      waits_.emplace(id, std::move(w));
      id = 0;
    }
  }
  if (id != 0) {  // stop() came first
    fuse_reply_err(req, EINTR);
    return;
  }
  spdlog::debug("event=lock_wait ino={} owner={} kind={}", request.ino, request.owner,
                static_cast<int>(request.kind));
  cv_.notify_all();
}

void LockKeeper::on_interrupt(fuse_req_t req, void* data) {
  // libfuse keeps `req` alive while this runs; the keeper is found through the session.
  auto* edge = static_cast<Edge*>(fuse_req_userdata(req));
  if (edge != nullptr && edge->locks != nullptr)
    edge->locks->interrupt(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data)));
}

void LockKeeper::interrupt(uint64_t id) {
  {
    std::lock_guard lock(mu_);
    auto it = waits_.find(id);
    if (it == waits_.end()) return;
    it->second.interrupted = true;
  }
  cv_.notify_all();
}

void LockKeeper::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) {
      auto left = std::move(waits_);
      waits_.clear();
      lock.unlock();
      for (auto& [id, w] : left) fuse_reply_err(w.req, EINTR);
      return;
    }
    auto gone = std::find_if(waits_.begin(), waits_.end(),
                             [](const auto& kv) { return kv.second.interrupted; });
    if (gone != waits_.end()) {
      fuse_req_t req = gone->second.req;
      waits_.erase(gone);
      lock.unlock();
      fuse_reply_err(req, EINTR);
      lock.lock();
      continue;
    }
    if (waits_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = std::min_element(waits_.begin(), waits_.end(), [](const auto& a, const auto& b) {
      return a.second.next < b.second.next;
    });
    if (Clock::now() < due->second.next) {
      cv_.wait_until(lock, due->second.next);
      continue;
    }
    const uint64_t id = due->first;
    Wait copy = due->second;
    lock.unlock();
    int err = attempt(copy);
    lock.lock();
    auto it = waits_.find(id);  // still there: only this thread removes waits
    if (err < 0 && !it->second.interrupted && !stopping_) {
      it->second.backoff = std::min(it->second.backoff * 2, std::chrono::milliseconds(kMaxBackoff));
      it->second.next = Clock::now() + it->second.backoff;
      continue;
    }
    fuse_req_t req = it->second.req;
    waits_.erase(it);
    lock.unlock();
    fuse_reply_err(req, err < 0 ? EINTR : err);
    lock.lock();
  }
}

int LockKeeper::attempt(Wait& w) {
  try {
    if (!call(*w.inode, w.request, false).granted) return -1;
    spdlog::debug("event=lock_wait_granted ino={} owner={} kind={}", w.request.ino,
                  w.request.owner, static_cast<int>(w.request.kind));
    return 0;
  } catch (const Error& e) {
    spdlog::warn("event=lock_wait_failed ino={} owner={} code={} msg=\"{}\"", w.request.ino,
                 w.request.owner, errc_name(e.code()), e.what());
    return errno_for(e.code());
  } catch (const std::exception& e) {
    spdlog::error("event=unexpected_exception op=lock_wait ino={} what=\"{}\"", w.request.ino,
                  e.what());
    return EIO;
  }
}

void LockKeeper::note_posix_owner(uint64_t ino, uint64_t owner) {
  std::lock_guard lock(mu_);
  posix_owners_.emplace(ino, owner);
}

bool LockKeeper::take_posix_owner(uint64_t ino, uint64_t owner) {
  std::lock_guard lock(mu_);
  return posix_owners_.erase({ino, owner}) > 0;
}

void LockKeeper::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace zhsm::fuse
