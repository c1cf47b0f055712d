// One backend directory and the objects in it: the only code of the file server that
// touches the disk (with its helpers disk_io, backend_identity and object_head).
//
// Layout (doc/architecture.md, "Objects on a backend"): ROOT/.zhsm-backend names the
// backend, ROOT/tmp/ holds objects being written, ROOT/aa/bb/<rest of uuid> are the
// object files, each a 4096-byte head block followed by the data. An object is never
// changed in place: a write session copies what it keeps into a temporary file, takes
// the writes there, and its commit renames the finished file over the old one after
// checking that nobody else committed in between. A half-written object never replaces
// a good one.
//
// Every method blocks on disk I/O: call them from an I/O thread pool, never from a
// network thread. All methods are thread-safe. Failures throw zhsm::Error: no_space
// when the disk is full, io with the path and strerror for other disk failures, and
// the expected outcomes named at each method.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "common/sha256.h"
#include "common/uuid.h"
#include "fileserver/backend_identity.h"
#include "fileserver/disk_io.h"
#include "fileserver/object_head.h"

namespace zhsm::fileserver {

// Largest object a session may grow to (offset + length of a write, or a truncate).
// Chunks are 16 MiB by default; this bound only stops absurd offsets.
inline constexpr uint64_t kMaxObjectSize = uint64_t(64) << 30;

struct BackendStats {
  uint64_t total_bytes = 0;   // size of the file system holding the backend
  uint64_t free_bytes = 0;    // available to this process (statvfs f_bavail)
  uint64_t used_bytes = 0;    // object files: head blocks plus data sizes
  uint64_t object_count = 0;
  uint64_t device_id = 0;     // st_dev of that file system: backends on one device share space
};

struct CommitResult {
  uint64_t version = 0;  // base version + 1
  uint64_t size = 0;
  Digest sha256{};
};

// What a copy received from another file server is to become (ObjectStore::install_copy).
struct CopyInstall {
  uint64_t version = 0;
  int64_t mtime_ns = 0;
  uint64_t size = 0;                // data bytes the copy must hold
  std::optional<Digest> sha256;     // expected SHA-256; nullopt = unknown (accept)
};

struct CopyInstalled {
  Digest sha256{};                  // of the data now stored
  bool already_here = false;        // the backend held that version already: nothing replaced
};

// The state of one write session: a temporary object file and what is known about
// it. Created by ObjectStore::begin_write and used only through the store's methods;
// several threads may use one session (its own mutex orders them). The owner of the
// shared_ptr must end it with commit or abort; a session dropped without that leaves
// a temporary file that the next open of the backend removes.
class WriteSession {
 public:
  const Uuid& uuid() const { return uuid_; }
  const Uuid& owner() const { return owner_; }
  uint64_t index() const { return index_; }
  uint64_t base_version() const { return base_version_; }
  // True once the session committed, aborted or failed: every further call on it
  // fails. Never blocks (callers on a network thread may ask).
  bool ended() const { return ended_.load(); }
  // True once the session failed (a full disk, an I/O error); never blocks.
  bool failed() const { return failed_.load(); }

 private:
  friend class ObjectStore;
  enum class State { open, committed, aborted, failed };

  std::mutex mu_;  // guards everything below; held for the whole of each operation
  State state_ = State::open;
  Errc failure_code_ = Errc::ok;  // state_ == failed: why
  std::string failure_;
  Uuid uuid_;
  Uuid owner_;
  uint64_t index_ = 0;
  uint64_t base_version_ = 0;
  File file_;          // the temporary object file in ROOT/tmp/
  // The same file opened for direct I/O (not open when its file system has none, or the
  // kernel refused a direct write): large aligned pieces go past the page cache.
  File direct_;
  uint64_t size_ = 0;  // data bytes (the file is 4096 bytes longer)
  // Data bytes below which writeback has been started (ObjectStore::write).
  uint64_t writeback_started_ = 0;
  // While every write so far appended at the end of data that started empty, the
  // SHA-256 is computed as the data arrives; otherwise the commit reads the file again.
  bool sequential_ = true;
  std::unique_ptr<Sha256> hash_;
  std::atomic<bool> ended_{false};   // state_ != open, readable without mu_
  std::atomic<bool> failed_{false};  // state_ == failed, readable without mu_
};

class ObjectStore {
 public:
  struct Options {
    std::filesystem::path root;  // must exist
    std::string name;
    std::string tier;
    FaultHook fault;  // tests only: make disk calls fail on purpose
    // Check each object's checksum the first time it is read (and again after it
    // changed); a mismatch answers `io` and is reported as corrupt.
    bool verify_reads = true;
  };

  // Opens the backend: claims ROOT (locks it; creates .zhsm-backend on first use, else
  // checks the name), creates ROOT/tmp/ and removes what a previous run left there, and
  // counts the objects. Throws Error(invalid) for a missing root or a name mismatch,
  // Error(busy) when another process serves the directory.
  static std::unique_ptr<ObjectStore> open(Options options);

  ~ObjectStore();
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  const BackendIdentity& identity() const { return identity_; }
  const Uuid& id() const { return identity_.id; }
  const std::filesystem::path& root() const { return root_; }
  // Temporary files found (and removed) in ROOT/tmp/ at open.
  uint64_t stale_temps_removed() const { return stale_temps_removed_; }

  // ---- write sessions (write_session.cc)

  // Starts a session on object `uuid` for file `owner`, chunk `index`, keeping the
  // first min(keep_length, size) bytes of the current object. When the object exists
  // its owner must be `owner` (else bad_token) and the session starts from its version;
  // when it does not, keep_length must be 0 (else stale) and the base version is 0.
  std::shared_ptr<WriteSession> begin_write(const Uuid& uuid, const Uuid& owner,
                                            uint64_t index, uint64_t keep_length);
  // Writes `n` bytes at data offset `offset` (holes read as zeros). Beyond
  // kMaxObjectSize: invalid. A disk failure ends the session (no_space or io; its
  // temporary file is removed).
  void write(WriteSession& s, uint64_t offset, const void* data, size_t n);
  // Sets the data size to `length` (cut or zero-extended).
  void truncate(WriteSession& s, uint64_t length);
  // Reads up to `n` bytes at `offset` of the session's data; fewer at its end.
  size_t read(WriteSession& s, uint64_t offset, void* buf, size_t n);
  // Finishes the session: SHA-256, head, fsync, then, holding the object's lock,
  // checks that the stored object is still at the base version (else stale) and
  // renames the file into place, fsyncs the directory. The file's mtime is set to
  // `mtime_ns`. On any failure the temporary file is removed and the stored object is
  // unchanged. A session commits at most once; after that every call on it fails.
  CommitResult commit(WriteSession& s, int64_t mtime_ns);
  // Ends the session and removes its temporary file. Idempotent; never throws.
  void abort(WriteSession& s) noexcept;

  // ---- copies received from another file server (copy_in.cc)

  // Starts receiving object `uuid` (file `owner`, chunk `index`): a session over a
  // fresh temporary file in ROOT/tmp/. Its data must arrive in order through write(),
  // which then computes the SHA-256 on the way. Reads nothing of a stored object.
  std::shared_ptr<WriteSession> begin_copy(const Uuid& uuid, const Uuid& owner, uint64_t index);
  // Ends the session by installing the copy as `want` says: checks its size (else io)
  // and SHA-256 (else io "checksum mismatch"), writes the head, sets the mtime, fsyncs,
  // and, holding the object's lock, renames it into place and fsyncs the directory.
  // A stored object of a newer version or of another file is never replaced (stale);
  // one of exactly `want.version` with the same SHA-256 is kept and the copy dropped
  // (already_here: installing twice is a no-op). On any failure the temporary file is
  // removed and the stored object is unchanged.
  CopyInstalled install_copy(WriteSession& s, const CopyInstall& want);

  // ---- committed objects (object_store.cc)

  // Reads up to `n` bytes at data offset `offset` of object `uuid`, which must belong
  // to `owner` (else bad_token). Fewer bytes at the end of the object; not_found when
  // the object is not here; stale when `expect_version` is not 0 and the object holds
  // another version.
  size_t read(const Uuid& uuid, const Uuid& owner, uint64_t offset, void* buf, size_t n,
              uint64_t expect_version = 0);
  // The head of object `uuid`, or nullopt when it is not here.
  std::optional<ObjectHead> head(const Uuid& uuid);
  // Whether the data of object `uuid` still has the SHA-256 its head records (false when
  // the object is not here). Reads the whole object unless this file was verified before.
  bool data_intact(const Uuid& uuid);
  // Objects found corrupt since the last call (their data does not match their head's
  // checksum), for the controller, which has them copied again from a good copy.
  std::vector<Uuid> take_corrupt();
  // Removes object `uuid`. Returns false when it was not here. Idempotent.
  bool remove(const Uuid& uuid);
  // Capacity and usage.
  BackendStats stats() const;

 private:
  ObjectStore(Options options, ClaimedBackend claimed);
  void clear_temp_area();
  void count_objects();
  std::mutex& object_lock(const Uuid& uuid);
  // Reads and decodes the head block of an open object file.
  ObjectHead read_head(const File& f) const;
  // Whether the data of the open object file `f` (head `head`) matches the head's
  // checksum; remembered per file identity (inode, size, mtime), so each version of an
  // object is hashed once. A mismatch is recorded for take_corrupt().
  bool intact(const File& f, const Uuid& uuid, const ObjectHead& head);
  // Session helpers; require s.mu_ held.
  void require_open(const WriteSession& s) const;
  // Writes a large piece that starts on a block boundary with direct I/O (its aligned
  // part; the rest through the page cache); false when it is not such a piece or the
  // session has no direct descriptor (write_session.cc).
  bool write_direct(WriteSession& s, uint64_t offset, const void* data, size_t n);
  void discard(WriteSession& s, WriteSession::State state, Errc code, const std::string& why) noexcept;
  Digest rehash(WriteSession& s);
  // Renames the session's finished file to `final_path` (creating the shard
  // directories), ends the session, updates the counts and fsyncs the directory. The
  // file counts as verified at `version`: its checksum was just computed from the data
  // it holds. Requires s.mu_ and the object's lock held; `replaced_bytes` is the size of
  // the file replaced (0 when `replaces` is false).
  void rename_into_place(WriteSession& s, const std::filesystem::path& final_path,
                         bool replaces, uint64_t replaced_bytes, uint64_t version);

  std::filesystem::path root_;
  std::filesystem::path tmp_dir_;
  DiskIo io_;
  BackendIdentity identity_;
  File lock_;  // the locked root directory
  uint64_t stale_temps_removed_ = 0;

  // Commit and remove hold the lock of the object they replace or remove; one of a
  // fixed set, chosen by the UUID's hash. Never held together with another one.
  std::array<std::mutex, 64> object_locks_;
  std::atomic<uint64_t> used_bytes_{0};
  std::atomic<uint64_t> object_count_{0};

  // Files whose data was found intact: by object, the file's identity then.
  struct FileIdentity {
    uint64_t ino = 0;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    uint64_t version = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  FileIdentity identity_of(const File& f, uint64_t version) const;
  // Records `id` as the intact identity of `uuid`. Requires verified_mu_ held.
  void remember_intact(const Uuid& uuid, const FileIdentity& id);
  const bool verify_reads_;
  std::mutex verified_mu_;
  std::unordered_map<Uuid, FileIdentity, UuidHash> verified_;  // bounded: cleared when full
  std::vector<Uuid> corrupt_;                                  // guarded by verified_mu_
};

}  // namespace zhsm::fileserver
