// Turns the PATH an operator gives zhsm-admin into a path inside the zhsm
// namespace. A path that exists locally and lies on a mounted zhsm filesystem
// (fstype fuse.zhsm in /proc/mounts; see zhsm_mount_points) is made absolute, its directories resolved
// (the last component is kept as named, like lstat, so a symlink is described
// itself), and the longest zhsm mount point is cut off its front:
// "/srv/zhsm/a/b" on a mount at "/srv/zhsm" becomes "/a/b". Any other path is
// taken as a namespace path as it is ("/a/b"), lexically normalized.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zhsm::admin {

// One line of /proc/mounts, with the octal escapes (\040 for a space ...) decoded.
struct MountEntry {
  std::string source;
  std::string mount_point;
  std::string fstype;
};

// Parses the text of /proc/mounts (or /proc/self/mounts); malformed lines are skipped.
std::vector<MountEntry> parse_mounts(std::string_view text);

// The mount points of zhsm filesystems (fstype "fuse.zhsm", or "fuse.zhsm-fuse"
// when libfuse named the subtype after the program) among `mounts`.
std::vector<std::string> zhsm_mount_points(const std::vector<MountEntry>& mounts);

// The namespace path of the absolute, resolved local path `real` when it lies
// under one of `mount_points` (the longest that matches wins); nullopt otherwise.
std::optional<std::string> namespace_path_under(const std::string& real,
                                                const std::vector<std::string>& mount_points);

// "/a//b/./c/" -> "/a/b/c"; "" and "/" -> "/". Requires an absolute path.
std::string normalize_namespace_path(std::string_view path);

// The whole conversion described above, reading /proc/self/mounts and the local
// filesystem. Throws zhsm::Error(invalid) for a relative path that is not an
// existing local path on a zhsm mount (it cannot name anything in the namespace).
std::string to_namespace_path(const std::string& arg,
                              const std::string& mounts_file = "/proc/self/mounts");

}  // namespace zhsm::admin
