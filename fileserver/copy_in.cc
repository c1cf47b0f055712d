// ObjectStore's copies received from another file server: a temporary file filled in
// order (hashed on the way) and installed with the version, mtime and SHA-256 the
// controller gave, never over a newer version. See doc/protocol.md, "Copies".
#include <fcntl.h>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "fileserver/object_store.h"

namespace zhsm::fileserver {

std::shared_ptr<WriteSession> ObjectStore::begin_copy(const Uuid& uuid, const Uuid& owner,
                                                      uint64_t index) {
  auto s = std::make_shared<WriteSession>();
  s->uuid_ = uuid;
  s->owner_ = owner;
  s->index_ = index;
  s->hash_ = std::make_unique<Sha256>();
  s->file_ = io_.open(tmp_dir_ / Uuid::random().str(), O_RDWR | O_CREAT | O_EXCL, 0644);
  // Large pieces past the page cache, as a client's write session (write_session.cc).
  if (auto direct = io_.open_direct(s->file_.path())) s->direct_ = std::move(*direct);
  return s;
}

CopyInstalled ObjectStore::install_copy(WriteSession& s, const CopyInstall& want) {
  std::lock_guard lock(s.mu_);
  require_open(s);
  try {
    if (s.size_ != want.size)
      throw Error(Errc::io, "copy of object " + s.uuid_.str() + " holds " +
                                std::to_string(s.size_) + " bytes, not the " +
                                std::to_string(want.size) + " expected");
    io_.truncate(s.file_, kHeadBlockSize + s.size_);
    ObjectHead head;
    head.uuid = s.uuid_;
    head.owner = s.owner_;
    head.index = s.index_;
    head.version = want.version;
    head.mtime_ns = want.mtime_ns;
    head.size = s.size_;
    head.sha256 = s.sequential_ ? s.hash_->finish() : rehash(s);
    if (want.sha256 && *want.sha256 != head.sha256)
      throw Error(Errc::io, "checksum mismatch: copy of object " + s.uuid_.str() + " version " +
                                std::to_string(want.version) + " has SHA-256 " +
                                to_hex(head.sha256) + ", expected " + to_hex(*want.sha256));
    HeadBlock block = encode_head_block(head);
    io_.pwrite_all(s.file_, block.data(), block.size(), 0);
    io_.set_mtime(s.file_, want.mtime_ns);
    io_.fsync(s.file_);

    auto final_path = shard_path(root_, s.uuid_);
    std::lock_guard object(object_lock(s.uuid_));
    bool replaces = false;
    uint64_t replaced_bytes = 0;
    if (auto current = io_.open_if_exists(final_path)) {
      replaces = true;
      ObjectHead stored = read_head(*current);
      if (stored.owner != s.owner_)
        throw Error(Errc::stale, "object " + s.uuid_.str() + " on backend '" + identity_.name +
                                     "' belongs to file " + stored.owner.str() + ", not " +
                                     s.owner_.str());
      if (stored.version > want.version)
        throw Error(Errc::stale, "object " + s.uuid_.str() + " on backend '" + identity_.name +
                                     "' is at version " + std::to_string(stored.version) +
                                     ", newer than the copy's version " +
                                     std::to_string(want.version));
      if (stored.version == want.version && stored.sha256 == head.sha256 &&
          stored.size == head.size && intact(*current, s.uuid_, stored)) {
        discard(s, WriteSession::State::aborted, Errc::stale, "already here");
        return CopyInstalled{head.sha256, true};
      }
      if (stored.version == want.version)
        spdlog::warn("event=copy_replaces_differing backend={} uuid={} version={} "
                     "stored_sha256={} new_sha256={}",
                     identity_.name, s.uuid_.str(), want.version, to_hex(stored.sha256),
                     to_hex(head.sha256));
      replaced_bytes = static_cast<uint64_t>(io_.fstat(*current).st_size);
    }
    rename_into_place(s, final_path, replaces, replaced_bytes, want.version);
    return CopyInstalled{head.sha256, false};
  } catch (const Error& e) {
    if (s.state_ == WriteSession::State::open)
      discard(s, WriteSession::State::failed, e.code(), e.what());
    throw;
  }
}

}  // namespace zhsm::fileserver
