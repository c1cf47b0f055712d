// Name validation and path splitting (see names.h).
#include "controller/names.h"

#include <fmt/format.h>

#include "common/error.h"

namespace zhsm {

void check_name(std::string_view name, std::string_view what) {
  if (name.empty()) throw Error(Errc::invalid, fmt::format("{} is empty", what));
  if (name == "." || name == "..")
    throw Error(Errc::invalid, fmt::format("{} '{}' is reserved", what, name));
  if (name.find('/') != std::string_view::npos)
    throw Error(Errc::invalid,
                fmt::format("{} '{}' contains '/'", what, printable_name(name)));
  if (name.find('\0') != std::string_view::npos)
    throw Error(Errc::invalid,
                fmt::format("{} '{}' contains a NUL byte", what, printable_name(name)));
  if (name.size() > kMaxNameBytes)
    throw Error(Errc::name_too_long,
                fmt::format("{} of {} bytes is longer than {}", what, name.size(), kMaxNameBytes));
}

std::vector<std::string> split_path(std::string_view path) {
  if (path.empty() || path.front() != '/')
    throw Error(Errc::invalid,
                fmt::format("path '{}' is not absolute", printable_name(path)));
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part.find('\0') != std::string_view::npos)
      throw Error(Errc::invalid, "path contains a NUL byte");
    if (part.size() > kMaxNameBytes)
      throw Error(Errc::name_too_long,
                  fmt::format("path component of {} bytes is longer than {}", part.size(),
                              kMaxNameBytes));
    names.emplace_back(part);
  }
  return names;
}

std::string printable_name(std::string_view name) {
  constexpr size_t kShown = 80;
  std::string out;
  for (size_t i = 0; i < name.size() && i < kShown; ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'')
      out += fmt::format("\\x{:02x}", c);
    else
      out.push_back(static_cast<char>(c));
  }
  if (name.size() > kShown) out += "...";
  return out;
}

}  // namespace zhsm
