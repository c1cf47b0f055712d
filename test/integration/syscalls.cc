// Syscall helpers shared by the POSIX integration tests.
#include "test/integration/syscalls.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/sha256.h"

namespace zhsm::test {

std::string errno_text(int err) {
  if (err == 0) return "<no error>";
  const char* name = ::strerrorname_np(err);
  return std::string("<errno ") + (name ? name : std::to_string(err).c_str()) + ">";
}

std::string pattern_bytes(uint64_t seed, size_t size) {
  std::string s(size, '\0');
  fill_pattern(seed, 0, reinterpret_cast<uint8_t*>(s.data()), size);
  return s;
}

long write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  return static_cast<long>(done);
}

long put(const fs::path& p, const std::string& data) {
  int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  long n = write_all(fd, data);
  if (::close(fd) != 0) return -1;
  return n;
}

long pwrite_all(int fd, const std::string& data, off_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                         offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  return static_cast<long>(done);
}

std::string pread_text(int fd, size_t size, off_t offset) {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out.data() + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_text(errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

std::string file_text(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_text(errno);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out = errno_text(errno);
      break;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string show(const std::string& bytes) {
  if (bytes.size() <= 48) {
    std::string out = "\"";
    for (unsigned char c : bytes) {
      if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
        out.push_back(static_cast<char>(c));
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      }
    }
    return out + "\"";
  }
  bool zeros = bytes.find_first_not_of('\0') == std::string::npos;
  return "size=" + std::to_string(bytes.size()) +
         (zeros ? " all-zero" : " sha256=" + to_hex(sha256(bytes.data(), bytes.size())).substr(0, 16));
}

std::string stat_line(const struct stat& st) {
  const char* type = S_ISREG(st.st_mode)    ? "reg"
                     : S_ISDIR(st.st_mode)  ? "dir"
                     : S_ISLNK(st.st_mode)  ? "lnk"
                     : S_ISFIFO(st.st_mode) ? "fifo"
                     : S_ISSOCK(st.st_mode) ? "sock"
                     : S_ISCHR(st.st_mode)  ? "chr"
                     : S_ISBLK(st.st_mode)  ? "blk"
                                            : "?";
  char buf[160];
  std::snprintf(buf, sizeof buf, "type=%s mode=0%o nlink=%lu uid=%u gid=%u", type,
                st.st_mode & 07777, static_cast<unsigned long>(st.st_nlink), st.st_uid, st.st_gid);
  std::string out = buf;
  // Directory sizes are filesystem-specific; everything else must agree.
  if (!S_ISDIR(st.st_mode)) out += " size=" + std::to_string(st.st_size);
  return out;
}

std::string stat_line(const fs::path& path, bool follow) {
  struct stat st {};
  int r = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (r != 0) return errno_text(errno);
  return stat_line(st);
}

std::map<std::string, int> list_dir(const fs::path& path, std::string* error) {
  std::map<std::string, int> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    if (error) *error = errno_text(errno);
    return out;
  }
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (!e) {
      if (errno && error) *error = errno_text(errno);
      break;
    }
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    ++out[name];
  }
  ::closedir(d);
  return out;
}

}  // namespace zhsm::test
