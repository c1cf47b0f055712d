// Reading, creating and locking a backend's .zhsm-backend file (see backend_identity.h).
#include "fileserver/backend_identity.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include <toml++/toml.h>

#include "common/error.h"

namespace zhsm::fileserver {
namespace {

constexpr const char* kMarkerName = ".zhsm-backend";
constexpr size_t kMaxMarkerBytes = 64 * 1024;

std::string toml_quote(const std::string& s) {
  std::ostringstream out;
  out << toml::value<std::string>(s);
  return out.str();
}

void write_marker(const DiskIo& io, const std::filesystem::path& root, const BackendIdentity& id) {
  std::string text =
      "# zhsm backend identity: written by zhsm-fileserver on first use. The uuid names this\n"
      "# backend in the cluster; do not edit or copy this file.\n"
      "uuid = \"" + id.id.str() + "\"\n"
      "name = " + toml_quote(id.name) + "\n"
      "tier = " + toml_quote(id.tier) + "\n";
  auto tmp = root / (std::string(kMarkerName) + ".new");
  {
    File f = io.open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    io.pwrite_all(f, text.data(), text.size(), 0);
    io.fsync(f);
  }
  io.rename(tmp, root / kMarkerName);
  io.fsync_dir(root);
}

BackendIdentity parse_marker(const std::string& text, const std::filesystem::path& path) {
  toml::table doc;
  try {
    doc = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    throw Error(Errc::invalid, "backend identity file " + path.string() + " is malformed: " +
                                   std::string(e.description()));
  }
  auto uuid_text = doc["uuid"].value<std::string>();
  auto name = doc["name"].value<std::string>();
  auto tier = doc["tier"].value<std::string>();
  if (!uuid_text || !name || !tier)
    throw Error(Errc::invalid, "backend identity file " + path.string() +
                                   " lacks one of the keys uuid, name, tier");
  auto id = Uuid::parse(*uuid_text);
  if (!id || id->is_nil())
    throw Error(Errc::invalid, "backend identity file " + path.string() + " has a bad uuid '" +
                                   *uuid_text + "'");
  return BackendIdentity{*id, *name, *tier};
}

}  // namespace

ClaimedBackend claim_backend(const DiskIo& io, const std::filesystem::path& root,
                             const std::string& name, const std::string& tier) {
  ClaimedBackend out;
  out.lock = io.open(root, O_RDONLY | O_DIRECTORY);
  if (::flock(out.lock.fd(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK)
      throw Error(Errc::busy, "backend directory " + root.string() +
                                  " is in use by another zhsm-fileserver (or named twice)");
    io.fail(errno, "lock", root);
  }

  auto path = root / kMarkerName;
  auto file = io.open_if_exists(path);
  if (!file) {
    out.identity = BackendIdentity{Uuid::random(), name, tier};
    write_marker(io, root, out.identity);
    out.created = true;
    return out;
  }
  std::string text(kMaxMarkerBytes, '\0');
  text.resize(io.pread_full(*file, text.data(), text.size(), 0));
  if (text.size() == kMaxMarkerBytes)
    throw Error(Errc::invalid, "backend identity file " + path.string() + " is too large");
  out.identity = parse_marker(text, path);
  if (out.identity.name != name)
    throw Error(Errc::invalid, "backend directory " + root.string() + " belongs to backend '" +
                                   out.identity.name + "' (uuid " + out.identity.id.str() +
                                   "), not '" + name + "': fix --backend or use another directory");
  if (out.identity.tier != tier) {
    out.previous_tier = out.identity.tier;
    out.identity.tier = tier;
    write_marker(io, root, out.identity);
  }
  return out;
}

}  // namespace zhsm::fileserver
