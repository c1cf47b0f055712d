// ObjectStore: opening a backend (identity, temporary area, object count) and the
// committed objects (read, head, remove, stats). Write sessions are in write_session.cc.
#include "fileserver/object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/error.h"

namespace zhsm::fileserver {
namespace {

// Objects whose verified file identities are remembered (about 64 bytes each).
constexpr size_t kMaxVerified = 1 << 16;

bool is_hex_name(const std::string& name, size_t length) {
  if (name.size() != length) return false;
  for (char c : name)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::unique_ptr<ObjectStore> ObjectStore::open(Options options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(options.root, ec))
    throw Error(Errc::invalid, "backend '" + options.name + "': directory " +
                                   options.root.string() + " does not exist");
  DiskIo io(options.name, options.fault);
  auto claimed = claim_backend(io, options.root, options.name, options.tier);
  std::unique_ptr<ObjectStore> store(new ObjectStore(std::move(options), std::move(claimed)));
  store->clear_temp_area();
  store->count_objects();
  return store;
}

ObjectStore::ObjectStore(Options options, ClaimedBackend claimed)
    : root_(std::move(options.root)),
      tmp_dir_(root_ / "tmp"),
      io_(options.name, std::move(options.fault)),
      identity_(std::move(claimed.identity)),
      lock_(std::move(claimed.lock)),
      verify_reads_(options.verify_reads) {
  if (claimed.created)
    spdlog::info("event=backend_created backend={} uuid={} path={}", identity_.name,
                 identity_.id.str(), root_.string());
  if (!claimed.previous_tier.empty())
    spdlog::info("event=backend_tier_changed backend={} uuid={} from={} to={}", identity_.name,
                 identity_.id.str(), claimed.previous_tier, identity_.tier);
}

ObjectStore::~ObjectStore() = default;

void ObjectStore::clear_temp_area() {
  io_.mkdir(tmp_dir_);
  std::error_code ec;
  std::filesystem::directory_iterator it(tmp_dir_, ec);
  if (ec) io_.fail(ec.value(), "list", tmp_dir_);
  for (const auto& entry : it) {
    io_.unlink(entry.path());
    ++stale_temps_removed_;
  }
  if (stale_temps_removed_ > 0)
    spdlog::info("event=stale_temp_files_removed backend={} count={}", identity_.name,
                 stale_temps_removed_);
}

void ObjectStore::count_objects() {
  // ROOT/aa/bb/<28 hex digits>; anything else in the tree is not ours and not counted.
  uint64_t used = 0, count = 0;
  std::error_code ec;
  for (const auto& l1 : std::filesystem::directory_iterator(root_, ec)) {
    if (!is_hex_name(l1.path().filename().string(), 2) || !l1.is_directory()) continue;
    std::filesystem::directory_iterator it2(l1.path(), ec);
    if (ec) io_.fail(ec.value(), "list", l1.path());
    for (const auto& l2 : it2) {
      if (!is_hex_name(l2.path().filename().string(), 2) || !l2.is_directory()) continue;
      std::filesystem::directory_iterator it3(l2.path(), ec);
      if (ec) io_.fail(ec.value(), "list", l2.path());
      for (const auto& obj : it3) {
        if (!is_hex_name(obj.path().filename().string(), 28)) continue;
        auto st = io_.stat_if_exists(obj.path());
        if (!st || !S_ISREG(st->st_mode)) continue;
        used += static_cast<uint64_t>(st->st_size);
        ++count;
      }
    }
  }
  if (ec) io_.fail(ec.value(), "list", root_);
  used_bytes_ = used;
  object_count_ = count;
}

std::mutex& ObjectStore::object_lock(const Uuid& uuid) {
  return object_locks_[UuidHash{}(uuid) % object_locks_.size()];
}

ObjectHead ObjectStore::read_head(const File& f) const {
  HeadBlock block{};
  size_t got = io_.pread_full(f, block.data(), block.size(), 0);
  if (got != block.size())
    throw Error(Errc::io, "backend '" + identity_.name + "': object file " + f.path().string() +
                              " is shorter than its head block");
  try {
    return decode_head_block(block);
  } catch (const Error& e) {
    throw Error(Errc::io, "backend '" + identity_.name + "': object file " + f.path().string() +
                              ": " + e.what());
  }
}

size_t ObjectStore::read(const Uuid& uuid, const Uuid& owner, uint64_t offset, void* buf,
                         size_t n, uint64_t expect_version) {
  auto file = io_.open_if_exists(shard_path(root_, uuid));
  if (!file)
    throw Error(Errc::not_found,
                "object " + uuid.str() + " is not on backend '" + identity_.name + "'");
  ObjectHead head = read_head(*file);
  if (head.owner != owner)
    throw Error(Errc::bad_token, "object " + uuid.str() + " does not belong to file " +
                                     owner.str());
  if (expect_version != 0 && head.version != expect_version)
    throw Error(Errc::stale, "object " + uuid.str() + " on backend '" + identity_.name +
                                 "' is at version " + std::to_string(head.version) +
                                 ", not the expected version " + std::to_string(expect_version));
  if (offset >= head.size || n == 0) return 0;
  if (verify_reads_ && !intact(*file, uuid, head))
    throw Error(Errc::io, "object " + uuid.str() + " on backend '" + identity_.name +
                              "' is corrupt: its data does not match its checksum (reported; "
                              "it is copied again from a good copy)");
  size_t want = static_cast<size_t>(std::min<uint64_t>(n, head.size - offset));
  size_t got = io_.pread_full(*file, buf, want, kHeadBlockSize + offset);
  if (got != want)
    throw Error(Errc::io, "backend '" + identity_.name + "': object file " +
                              file->path().string() + " is shorter than its head says (" +
                              std::to_string(head.size) + " bytes)");
  return got;
}

std::optional<ObjectHead> ObjectStore::head(const Uuid& uuid) {
  auto file = io_.open_if_exists(shard_path(root_, uuid));
  if (!file) return std::nullopt;
  return read_head(*file);
}

bool ObjectStore::data_intact(const Uuid& uuid) {
  auto file = io_.open_if_exists(shard_path(root_, uuid));
  if (!file) return false;
  return intact(*file, uuid, read_head(*file));
}

ObjectStore::FileIdentity ObjectStore::identity_of(const File& f, uint64_t version) const {
  struct stat st = io_.fstat(f);
  return FileIdentity{static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                      version};
}

void ObjectStore::remember_intact(const Uuid& uuid, const FileIdentity& id) {
  if (verified_.size() >= kMaxVerified) verified_.clear();
  verified_[uuid] = id;
}

bool ObjectStore::intact(const File& f, const Uuid& uuid, const ObjectHead& head) {
  FileIdentity id = identity_of(f, head.version);
  {
    std::lock_guard lock(verified_mu_);
    auto it = verified_.find(uuid);
    if (it != verified_.end() && it->second == id) return true;
  }
  Sha256 hash;
  std::vector<char> buf(1 << 20);
  uint64_t done = 0;
  while (done < head.size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), head.size - done));
    size_t got = io_.pread_full(f, buf.data(), want, kHeadBlockSize + done);
    hash.update(buf.data(), got);
    done += got;
    if (got < want) break;  // shorter than its head says: the digest cannot match
  }
  bool ok = done == head.size && hash.finish() == head.sha256;
  std::lock_guard lock(verified_mu_);
  if (ok) {
    remember_intact(uuid, id);
  } else {
    verified_.erase(uuid);
    if (std::find(corrupt_.begin(), corrupt_.end(), uuid) == corrupt_.end()) corrupt_.push_back(uuid);
    spdlog::error("event=object_corrupt backend={} uuid={} version={} path={}", identity_.name,
                  uuid.str(), head.version, f.path().string());
  }
  return ok;
}

std::vector<Uuid> ObjectStore::take_corrupt() {
  std::lock_guard lock(verified_mu_);
  return std::exchange(corrupt_, {});
}

bool ObjectStore::remove(const Uuid& uuid) {
  auto path = shard_path(root_, uuid);
  std::lock_guard lock(object_lock(uuid));
  auto st = io_.stat_if_exists(path);
  if (!st) return false;
  if (!io_.unlink(path)) return false;
  used_bytes_ -= static_cast<uint64_t>(st->st_size);
  --object_count_;
  io_.fsync_dir(path.parent_path());
  return true;
}

BackendStats ObjectStore::stats() const {
  struct statvfs vfs {};
  if (::statvfs(root_.c_str(), &vfs) < 0) io_.fail(errno, "statvfs", root_);
  BackendStats s;
  s.total_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  s.free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  s.used_bytes = used_bytes_;
  s.object_count = object_count_;
  struct stat st {};
  if (::stat(root_.c_str(), &st) < 0) io_.fail(errno, "stat", root_);
  s.device_id = static_cast<uint64_t>(st.st_dev);
  return s;
}

}  // namespace zhsm::fileserver
