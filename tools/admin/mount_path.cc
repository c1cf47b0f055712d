// Local path -> zhsm namespace path, through /proc/mounts.
#include "tools/admin/mount_path.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/error.h"

namespace zhsm::admin {

namespace {

// Decodes the \ooo escapes the kernel writes for space, tab, newline and backslash.
std::string unescape_mount_field(std::string_view field) {
  auto is_oct = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && is_oct(field[i + 1]) &&
        is_oct(field[i + 2]) && is_oct(field[i + 3])) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += field[i];
  }
  return out;
}

std::string realpath_of(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return {};
  return buf;
}

}  // namespace

std::vector<MountEntry> parse_mounts(std::string_view text) {
  std::vector<MountEntry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string_view> fields;
    size_t f = 0;
    while (f < line.size() && fields.size() < 3) {
      while (f < line.size() && (line[f] == ' ' || line[f] == '\t')) ++f;
      size_t g = f;
      while (g < line.size() && line[g] != ' ' && line[g] != '\t') ++g;
      if (g > f) fields.push_back(line.substr(f, g - f));
      f = g;
    }
    if (fields.size() < 3) continue;
    out.push_back({unescape_mount_field(fields[0]), unescape_mount_field(fields[1]),
                   unescape_mount_field(fields[2])});
  }
  return out;
}

std::vector<std::string> zhsm_mount_points(const std::vector<MountEntry>& mounts) {
  std::vector<std::string> out;
  // zhsm-fuse asks for subtype "zhsm"; a libfuse that falls back to the
  // program's name makes it "zhsm-fuse".
  for (const auto& m : mounts)
    if (m.fstype == "fuse.zhsm" || m.fstype == "fuse.zhsm-fuse") out.push_back(m.mount_point);
  return out;
}

std::optional<std::string> namespace_path_under(const std::string& real,
                                                const std::vector<std::string>& mount_points) {
  const std::string* best = nullptr;
  for (const auto& mp : mount_points) {
    bool under;
    if (mp == "/") {
      under = !real.empty() && real[0] == '/';
    } else {
      under = real.size() >= mp.size() && real.compare(0, mp.size(), mp) == 0 &&
              (real.size() == mp.size() || real[mp.size()] == '/');
    }
    if (under && (best == nullptr || mp.size() > best->size())) best = &mp;
  }
  if (best == nullptr) return std::nullopt;
  if (*best == "/") return normalize_namespace_path(real);
  return normalize_namespace_path(real.substr(best->size()));
}

std::string normalize_namespace_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

std::string to_namespace_path(const std::string& arg, const std::string& mounts_file) {
  if (arg.empty()) throw Error(Errc::invalid, "empty path");
  struct stat st;
  if (::lstat(arg.c_str(), &st) == 0) {
    // Resolve the directories but keep the last component as named (lstat
    // semantics), unless it is "." or ".." or the path ends in a slash.
    std::string real;
    auto slash = arg.find_last_of('/');
    std::string last = slash == std::string::npos ? arg : arg.substr(slash + 1);
    if (last.empty() || last == "." || last == "..") {
      real = realpath_of(arg);
    } else {
      std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : arg.substr(0, slash));
      std::string rdir = realpath_of(dir);
      if (!rdir.empty()) real = rdir == "/" ? "/" + last : rdir + "/" + last;
    }
    if (!real.empty()) {
      std::ifstream in(mounts_file);
      std::stringstream text;
      text << in.rdbuf();
      if (auto ns = namespace_path_under(real, zhsm_mount_points(parse_mounts(text.str()))))
        return *ns;
    }
  }
  if (arg[0] != '/')
    throw Error(Errc::invalid, "'" + arg +
                                   "' is neither a path on a mounted zhsm filesystem nor an "
                                   "absolute namespace path");
  return normalize_namespace_path(arg);
}

}  // namespace zhsm::admin
