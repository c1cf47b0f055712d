// Shell scripts in a directory and comparable tree listings, for the
// real-program tests (see programs_support.h).
#include "test/integration/programs_support.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "common/sha256.h"

namespace zhsm::test {
namespace {

std::string sha256_of_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::string("<open: ") + ::strerror(errno) + ">";
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return std::string("<read: ") + ::strerror(err) + ">";
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return to_hex(sha256(data.data(), data.size()));
}

const char* type_name(mode_t mode) {
  if (S_ISREG(mode)) return "reg";
  if (S_ISDIR(mode)) return "dir";
  if (S_ISLNK(mode)) return "lnk";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "sock";
  if (S_ISCHR(mode)) return "chr";
  if (S_ISBLK(mode)) return "blk";
  return "?";
}

// Every path below root, sorted, collected before anything is described so that
// the hard-link groups name the first path in sorted order.
void collect(const fs::path& root, const fs::path& rel, std::vector<fs::path>& out,
             std::vector<std::string>& errors) {
  std::error_code ec;
  std::vector<fs::path> names;
  for (fs::directory_iterator it(root / rel, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(rel / it->path().filename());
  if (ec) errors.push_back(rel.string() + " <readdir: " + ec.message() + ">");
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    out.push_back(n);
    struct stat st {};
    if (::lstat((root / n).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) collect(root, n, out, errors);
  }
}

}  // namespace

CommandResult shell(const fs::path& cwd, const std::string& script,
                    const std::vector<std::string>& args, const std::vector<std::string>& env,
                    std::chrono::seconds timeout) {
  // $0 carries the directory, so the script's own arguments start at $1.
  std::vector<std::string> argv = {"/bin/sh", "-c", "set -e\ncd -- \"$0\"\n" + script, cwd.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, env, timeout);
}

std::vector<std::string> tree_listing(const fs::path& root, const ListingOptions& options) {
  std::vector<fs::path> paths;
  std::vector<std::string> lines;
  collect(root, "", paths, lines);
  std::map<std::pair<dev_t, ino_t>, std::string> first_of_inode;
  for (const auto& rel : paths) {
    fs::path p = root / rel;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      lines.push_back(rel.string() + " <lstat: " + ::strerror(errno) + ">");
      continue;
    }
    std::ostringstream os;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    os << rel.string() << " type=" << type_name(st.st_mode) << " mode=" << mode;
    if (options.owner) os << " uid=" << st.st_uid << " gid=" << st.st_gid;
    if (S_ISREG(st.st_mode)) {
      os << " size=" << st.st_size << " nlink=" << st.st_nlink << " sha256=" << sha256_of_file(p);
    } else if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      fs::path target = fs::read_symlink(p, ec);
      os << " target=" << (ec ? "<" + ec.message() + ">" : target.string());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      os << " rdev=" << st.st_rdev;
    }
    if (S_ISREG(st.st_mode) ? options.mtime : options.nonfile_mtime) {
      char ns[16];
      std::snprintf(ns, sizeof ns, "%09ld", static_cast<long>(st.st_mtim.tv_nsec));
      os << " mtime=" << st.st_mtim.tv_sec << "." << ns;
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, inserted] = first_of_inode.try_emplace({st.st_dev, st.st_ino}, rel.string());
      if (!inserted) os << " link=" << it->second;
    }
    lines.push_back(os.str());
  }
  return lines;
}

void expect_same_listing(const std::vector<std::string>& got, const std::vector<std::string>& want,
                         const std::string& what, size_t max_shown) {
  if (got == want) return;
  std::set<std::string> g(got.begin(), got.end());
  std::set<std::string> w(want.begin(), want.end());
  std::ostringstream os;
  size_t shown = 0;
  size_t only_got = 0;
  size_t only_want = 0;
  for (const auto& line : got) {
    if (w.count(line)) continue;
    ++only_got;
    if (shown++ < max_shown) os << "  only in the result:   " << line << "\n";
  }
  for (const auto& line : want) {
    if (g.count(line)) continue;
    ++only_want;
    if (shown++ < max_shown) os << "  only in the expected: " << line << "\n";
  }
  ADD_FAILURE() << what << ": the trees differ (" << got.size() << " entries against "
                << want.size() << "; " << only_got << " lines only in the result, " << only_want
                << " only in the expected)\n" << os.str();
}

}  // namespace zhsm::test
