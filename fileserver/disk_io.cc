// System call wrappers of the object store (see disk_io.h).
#include "fileserver/disk_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/error.h"

namespace zhsm::fileserver {
namespace {

constexpr size_t kCopyPiece = 1u << 20;

}  // namespace

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

void File::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void DiskIo::fail(int err, std::string_view what, const std::filesystem::path& path) const {
  std::string detail = std::string(what) + " " + path.string() + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT)
    throw Error(Errc::no_space, "backend '" + backend_ + "' is full: cannot " + detail);
  throw Error(Errc::io, "backend '" + backend_ + "': cannot " + detail);
}

File DiskIo::open(const std::filesystem::path& path, int flags, mode_t mode) const {
  if (flags & O_CREAT)
    if (int err = injected("create", path)) fail(err, "create", path);
  int fd;
  do fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) fail(errno, (flags & O_CREAT) ? "create" : "open", path);
  return File(fd, path);
}

std::optional<File> DiskIo::open_if_exists(const std::filesystem::path& path) const {
  int fd;
  do fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail(errno, "open", path);
  }
  return File(fd, path);
}

size_t DiskIo::pread_full(const File& f, void* buf, size_t n, uint64_t offset) const {
  size_t done = 0;
  auto* p = static_cast<uint8_t*>(buf);
  while (done < n) {
    ssize_t r = ::pread(f.fd(), p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(errno, "read", f.path());
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

namespace {

// pwrite(2) until all of `n` went, retrying EINTR. -1 when done; otherwise the errno that
// stopped it, or 0 when `direct` and a short write left the rest off the block boundary.
int pwrite_loop(const File& f, const uint8_t* p, size_t n, uint64_t offset, bool direct) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(f.fd(), p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(r);
    if (direct && done < n && done % DiskIo::kDirectAlign != 0) return 0;
  }
  return -1;
}

}  // namespace

void DiskIo::pwrite_all(const File& f, const void* buf, size_t n, uint64_t offset) const {
  if (int err = injected("write", f.path())) fail(err, "write", f.path());
  int err = pwrite_loop(f, static_cast<const uint8_t*>(buf), n, offset, false);
  if (err >= 0) fail(err, "write", f.path());
}

std::optional<File> DiskIo::open_direct(const std::filesystem::path& path) const {
  int fd;
  do fd = ::open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  // Direct I/O only spares a copy: whatever stands in its way (EINVAL: the file system has
  // none; out of descriptors) leaves the session to the page cache.
  if (fd < 0) return std::nullopt;
  return File(fd, path);
}

bool DiskIo::pwrite_direct(const File& f, const void* buf, size_t n, uint64_t offset) const {
  if (int err = injected("write", f.path())) fail(err, "write", f.path());
  // A short direct write that leaves the rest off the block boundary (in theory only),
  // like EINVAL, sends the caller through the page cache for all of it.
  int err = pwrite_loop(f, static_cast<const uint8_t*>(buf), n, offset, true);
  if (err == -1) return true;
  if (err == 0 || err == EINVAL) return false;
  fail(err, "write", f.path());
}

void DiskIo::copy_range(const File& src, uint64_t src_offset, const File& dst,
                        uint64_t dst_offset, uint64_t n) const {
  if (int err = injected("copy", dst.path())) fail(err, "copy into", dst.path());
  uint64_t done = 0;
  bool in_kernel = true;
  std::vector<uint8_t> buf;
  while (done < n) {
    if (in_kernel) {
      off_t in = static_cast<off_t>(src_offset + done);
      off_t out = static_cast<off_t>(dst_offset + done);
      size_t want = static_cast<size_t>(std::min<uint64_t>(n - done, 1u << 30));
      ssize_t r = ::copy_file_range(src.fd(), &in, dst.fd(), &out, want, 0);
      if (r > 0) {
        done += static_cast<uint64_t>(r);
        continue;
      }
      if (r == 0) break;  // source ended early: the rest reads as zeros
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
        in_kernel = false;  // not possible here: fall back to copying through a buffer
        continue;
      }
      fail(errno, "copy into", dst.path());
    }
    if (buf.empty()) buf.resize(kCopyPiece);
    size_t want = static_cast<size_t>(std::min<uint64_t>(n - done, buf.size()));
    size_t got = pread_full(src, buf.data(), want, src_offset + done);
    if (got == 0) break;
    pwrite_all(dst, buf.data(), got, dst_offset + done);
    done += got;
  }
}

void DiskIo::truncate(const File& f, uint64_t length) const {
  if (int err = injected("truncate", f.path())) fail(err, "truncate", f.path());
  int r;
  do r = ::ftruncate(f.fd(), static_cast<off_t>(length));
  while (r < 0 && errno == EINTR);
  if (r < 0) fail(errno, "truncate", f.path());
}

void DiskIo::fsync(const File& f) const {
  if (int err = injected("sync", f.path())) fail(err, "fsync", f.path());
  int r;
  do r = ::fsync(f.fd());
  while (r < 0 && errno == EINTR);
  if (r < 0) fail(errno, "fsync", f.path());
}

bool DiskIo::start_writeback(const File& f, uint64_t offset, uint64_t length) const {
  if (injected("writeback", f.path()) != 0) return false;
  int r;
  do r = ::sync_file_range(f.fd(), static_cast<off_t>(offset), static_cast<off_t>(length),
                           SYNC_FILE_RANGE_WRITE);
  while (r < 0 && errno == EINTR);
  return r == 0;
}

struct stat DiskIo::fstat(const File& f) const {
  struct stat st {};
  if (::fstat(f.fd(), &st) < 0) fail(errno, "stat", f.path());
  return st;
}

void DiskIo::set_mtime(const File& f, int64_t mtime_ns) const {
  if (int err = injected("utimes", f.path())) fail(err, "set mtime of", f.path());
  int64_t sec = mtime_ns / 1000000000;
  int64_t nsec = mtime_ns % 1000000000;
  if (nsec < 0) {
    nsec += 1000000000;
    sec -= 1;
  }
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = static_cast<time_t>(sec);
  times[1].tv_nsec = static_cast<long>(nsec);
  if (::futimens(f.fd(), times) < 0) fail(errno, "set mtime of", f.path());
}

std::optional<struct stat> DiskIo::stat_if_exists(const std::filesystem::path& path) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return st;
  if (errno == ENOENT) return std::nullopt;
  fail(errno, "stat", path);
}

void DiskIo::rename(const std::filesystem::path& from, const std::filesystem::path& to) const {
  if (int err = injected("rename", to)) fail(err, "rename " + from.string() + " to", to);
  if (::rename(from.c_str(), to.c_str()) < 0) fail(errno, "rename " + from.string() + " to", to);
}

bool DiskIo::mkdir(const std::filesystem::path& path) const {
  if (int err = injected("mkdir", path)) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail(err, "create directory", path);
  }
  if (::mkdir(path.c_str(), 0755) == 0) return true;
  if (errno == EEXIST) return false;
  fail(errno, "create directory", path);
}

void DiskIo::fsync_dir(const std::filesystem::path& path) const {
  File dir = open(path, O_RDONLY | O_DIRECTORY);
  if (int err = injected("sync", path)) fail(err, "fsync directory", path);
  if (::fsync(dir.fd()) < 0) fail(errno, "fsync directory", path);
}

bool DiskIo::unlink(const std::filesystem::path& path) const {
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  fail(errno, "remove", path);
}

}  // namespace zhsm::fileserver
