// Rules for directory entry names and namespace paths, independent of any storage:
// what a valid POSIX name is, and how an absolute path splits into names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zhsm {

inline constexpr size_t kMaxNameBytes = 255;

// Throws Error(invalid) for "", ".", "..", or a name containing '/' or NUL, and
// Error(name_too_long) for more than 255 bytes. `what` names the argument in the message.
void check_name(std::string_view name, std::string_view what = "name");

// Splits an absolute path into its names: "/" -> {}, "/a//b/" -> {"a", "b"}; "." components
// are dropped, ".." is kept (the caller resolves it). Throws Error(invalid) for a relative
// or empty path and Error(name_too_long) for a component over 255 bytes.
std::vector<std::string> split_path(std::string_view path);

// A name made printable for log lines and error messages (non-printable bytes as \xNN,
// long names shortened).
std::string printable_name(std::string_view name);

}  // namespace zhsm
