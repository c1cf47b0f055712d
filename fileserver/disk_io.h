// The object store's system calls: an owning file handle and thin wrappers that
// retry EINTR, finish short transfers and turn errno into zhsm::Error with the path,
// the backend and strerror in the message (ENOSPC and EDQUOT become no_space, the rest
// io). Every call that changes the disk first asks an optional fault hook, so tests
// can make any step fail with ENOSPC or EIO without filling a real disk. Only the
// object store (object_store.cc, write_session.cc, backend_identity.cc) uses this.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace zhsm::fileserver {

// Called before each changing system call with its name ("write", "copy",
// "truncate", "sync", "rename", "mkdir", "create", "utimes") and the path; returns 0
// to go ahead or an errno the call then fails with. Must be thread-safe.
using FaultHook = std::function<int(std::string_view op, const std::filesystem::path& path)>;

// An open file descriptor and the path it was opened as (for messages). Move-only;
// closes on destruction.
class File {
 public:
  File() = default;
  File(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { close(); }

  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }
  bool is_open() const { return fd_ >= 0; }
  void close();

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// The wrappers, bound to one backend (its name goes into messages). Thread-safe.
class DiskIo {
 public:
  DiskIo(std::string backend, FaultHook hook) : backend_(std::move(backend)), hook_(std::move(hook)) {}

  // Throws the Error for errno `err` while doing `what` ("write", "read", ...) on `path`.
  [[noreturn]] void fail(int err, std::string_view what, const std::filesystem::path& path) const;

  // open(2); O_CLOEXEC is added. Creating flags go through the fault hook.
  File open(const std::filesystem::path& path, int flags, mode_t mode = 0644) const;
  // Like open(O_RDONLY) but nullopt when the file does not exist.
  std::optional<File> open_if_exists(const std::filesystem::path& path) const;

  // Reads up to `n` bytes at `offset`, fewer only at end of file. Returns the count.
  size_t pread_full(const File& f, void* buf, size_t n, uint64_t offset) const;
  // Writes all `n` bytes at `offset`.
  void pwrite_all(const File& f, const void* buf, size_t n, uint64_t offset) const;
  // The file at `path` opened again for writing with O_DIRECT (past the page cache);
  // nullopt when that fails (its file system does no direct I/O, no descriptor left, ...).
  std::optional<File> open_direct(const std::filesystem::path& path) const;
  // pwrite_all through a descriptor from open_direct(): `buf`, `n` and `offset` aligned to
  // kDirectAlign. False, having written nothing to rely on, when the kernel refused this
  // transfer as direct I/O (EINVAL): the caller writes it through the page cache instead.
  static constexpr size_t kDirectAlign = 4096;
  bool pwrite_direct(const File& f, const void* buf, size_t n, uint64_t offset) const;
  // Copies `n` bytes from `src` at `src_offset` to `dst` at `dst_offset`, in the kernel
  // (copy_file_range) where it can, through a bounded buffer where it cannot.
  void copy_range(const File& src, uint64_t src_offset, const File& dst, uint64_t dst_offset,
                  uint64_t n) const;
  void truncate(const File& f, uint64_t length) const;
  void fsync(const File& f) const;
  // Starts writing back the dirty pages of [offset, offset+length) without waiting for
  // them (sync_file_range SYNC_FILE_RANGE_WRITE): a later fsync then has less left to
  // wait for. Advisory: durability still comes only from fsync. Returns false, changing
  // nothing, when the kernel refused (the fsync reports any real disk error).
  bool start_writeback(const File& f, uint64_t offset, uint64_t length) const;
  struct stat fstat(const File& f) const;
  // Sets the modification time (the access time is left alone).
  void set_mtime(const File& f, int64_t mtime_ns) const;

  // stat(2); nullopt when the path does not exist.
  std::optional<struct stat> stat_if_exists(const std::filesystem::path& path) const;
  void rename(const std::filesystem::path& from, const std::filesystem::path& to) const;
  // mkdir(2) with mode 0755. Returns false when the directory already existed.
  bool mkdir(const std::filesystem::path& path) const;
  // Opens the directory and fsyncs it, so entries created or renamed in it persist.
  void fsync_dir(const std::filesystem::path& path) const;
  // unlink(2). Returns false when there was nothing to remove.
  bool unlink(const std::filesystem::path& path) const;

  const std::string& backend() const { return backend_; }

 private:
  // Asks the fault hook; returns the errno to fail with, or 0.
  int injected(std::string_view op, const std::filesystem::path& path) const {
    return hook_ ? hook_(op, path) : 0;
  }

  std::string backend_;
  FaultHook hook_;
};

}  // namespace zhsm::fileserver
