#include "common/port_file.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/error.h"

namespace zhsm {

std::string host_of(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

void write_port_file(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    out.flush();
    if (!out) throw Error(Errc::io, "cannot write port file " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(Errc::io, "cannot rename " + tmp + " to " + path + ": " + ec.message());
}

}  // namespace zhsm
