// Reading and creating STATE_DIR/server-id (see server_identity.h).
#include "fileserver/server_identity.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include "common/error.h"

namespace zhsm::fileserver {

Uuid load_or_create_server_id(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    throw Error(Errc::io, "cannot create state directory " + state_dir.string() + ": " +
                              ec.message());
  auto path = state_dir / "server-id";
  if (std::ifstream in(path); in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
      text.pop_back();
    auto id = Uuid::parse(text);
    if (!id || id->is_nil())
      throw Error(Errc::invalid, "server id file " + path.string() + " does not hold a UUID");
    return *id;
  }
  if (std::filesystem::exists(path, ec))
    throw Error(Errc::io, "cannot read server id file " + path.string());

  Uuid id = Uuid::random();
  auto tmp = state_dir / "server-id.new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id.str() << "\n";
    out.flush();
    if (!out) throw Error(Errc::io, "cannot write server id file " + tmp.string());
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    throw Error(Errc::io, "cannot rename " + tmp.string() + " to " + path.string() + ": " +
                              ec.message());
  return id;
}

}  // namespace zhsm::fileserver
