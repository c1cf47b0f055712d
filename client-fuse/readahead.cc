// Readahead of the mount's backing device, through /proc/self/mountinfo and sysfs.
#include "client-fuse/readahead.h"

#include <fstream>
#include <sstream>
#include <vector>

#include <spdlog/spdlog.h>

namespace zhsm::fuse {

namespace {

// mountinfo's octal escapes (\040 for a space) undone.
std::string unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      auto octal = field.substr(i + 1, 3);
      if (octal.find_first_not_of("01234567") == std::string_view::npos) {
        out.push_back(static_cast<char>((octal[0] - '0') * 64 + (octal[1] - '0') * 8 + (octal[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

std::optional<std::string> mount_device_of(std::string_view mountinfo, std::string_view mountpoint) {
  // Each line: mount id, parent id, MAJOR:MINOR, root, mount point, ...
  std::optional<std::string> found;
  size_t start = 0;
  while (start < mountinfo.size()) {
    size_t end = mountinfo.find('\n', start);
    if (end == std::string_view::npos) end = mountinfo.size();
    auto f = fields_of(mountinfo.substr(start, end - start));
    if (f.size() >= 5 && unescape(f[4]) == mountpoint) found = std::string(f[2]);
    start = end + 1;
  }
  return found;
}

void set_readahead(const std::string& mountpoint, unsigned kib) {
  if (kib == 0) return;
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  auto device = mount_device_of(text.str(), mountpoint);
  if (!device) {
    spdlog::warn("event=readahead_unchanged mountpoint={} reason=\"mount not in /proc/self/mountinfo\"",
                 mountpoint);
    return;
  }
  std::string path = "/sys/class/bdi/" + *device + "/read_ahead_kb";
  std::ofstream out(path);
  out << kib << '\n';
  out.flush();
  if (!out) {
    spdlog::warn("event=readahead_unchanged mountpoint={} device={} path={} reason=\"cannot write "
                 "(zhsm-fuse not root?)\"",
                 mountpoint, *device, path);
    return;
  }
  spdlog::info("event=readahead_set mountpoint={} device={} read_ahead_kb={}", mountpoint, *device, kib);
}

}  // namespace zhsm::fuse
