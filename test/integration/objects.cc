// Parsing of `zhsm-admin file info --json` and of object files on backends.
#include "test/integration/objects.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <capnp/serialize.h>

#include "capnp/zhsm.capnp.h"
#include "common/frame.h"

namespace zhsm::test {
namespace {

[[noreturn]] void missing(const char* what, const nlohmann::json& j) {
  throw std::runtime_error(std::string("file info JSON lacks ") + what + ": " + j.dump(2));
}

std::string text_of(const nlohmann::json* v) {
  if (!v || v->is_null()) return "";
  if (v->is_string()) return v->get<std::string>();
  return v->dump();
}

uint64_t number_of(const nlohmann::json* v, const char* what, const nlohmann::json& all) {
  if (!v) missing(what, all);
  if (v->is_number_unsigned() || v->is_number_integer()) return v->get<uint64_t>();
  if (v->is_string()) return std::stoull(v->get<std::string>());
  missing(what, all);
}

// Canonical text, or 32 hex digits without dashes.
std::optional<Uuid> uuid_of(const std::string& text) {
  if (auto id = Uuid::parse(text)) return id;
  if (text.size() == 32) {
    std::string dashed = text.substr(0, 8) + "-" + text.substr(8, 4) + "-" + text.substr(12, 4) +
                         "-" + text.substr(16, 4) + "-" + text.substr(20);
    return Uuid::parse(dashed);
  }
  return std::nullopt;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

FileInfo file_info(const Cluster& cluster, const fs::path& path_on_mount) {
  FileInfo info;
  // Asked by namespace path ("/dir/file"), which zhsm-admin takes as well as a
  // path on a mount; FileInfoAcceptsAMountPath covers the latter.
  std::string ns_path = path_on_mount.string();
  fs::path rel = path_on_mount.lexically_relative(cluster.mount());
  if (!rel.empty() && rel.native().rfind("..", 0) != 0) ns_path = "/" + rel.string();
  if (ns_path == "/.") ns_path = "/";
  info.raw = cluster.admin_json({"file", "info", ns_path});
  const nlohmann::json& j = info.raw;
  const nlohmann::json* attr = json_field(j, {"attr", "attributes"});
  const nlohmann::json& a = attr ? *attr : j;
  info.ino = number_of(json_field(a, {"ino", "inode"}), "ino", j);
  info.size = number_of(json_field(a, {"size"}), "size", j);
  if (auto id = uuid_of(text_of(json_field(a, {"fsid", "uuid"})))) info.fsid = id;
  if (auto v = json_field(j, {"inline", "is_inline", "isInline"})) info.is_inline = v->get<bool>();
  info.chunk_size = number_of(json_field(j, {"chunk_size", "chunkSize"}), "chunk_size", j);
  const nlohmann::json* chunks = json_field(j, {"chunks"});
  if (!chunks || !chunks->is_array()) missing("chunks", j);
  for (const auto& c : *chunks) {
    ChunkInfo ci;
    ci.index = number_of(json_field(c, {"index"}), "chunks[].index", j);
    auto id = uuid_of(text_of(json_field(c, {"uuid", "id"})));
    if (!id) missing("chunks[].uuid", j);
    ci.uuid = *id;
    if (auto v = json_field(c, {"version"})) ci.version = number_of(v, "version", j);
    ci.size = number_of(json_field(c, {"size"}), "chunks[].size", j);
    ci.sha256 = lower(text_of(json_field(c, {"sha256", "sha_256", "checksum"})));
    const nlohmann::json* copies = json_field(c, {"copies"});
    if (!copies || !copies->is_array()) missing("chunks[].copies", j);
    for (const auto& cp : *copies) {
      CopyInfo k;
      k.backend = text_of(json_field(cp, {"backend", "backend_id", "backendId"}));
      k.backend_name = text_of(json_field(cp, {"backend_name", "backendName"}));
      k.server_name = text_of(json_field(cp, {"server_name", "serverName"}));
      k.address = text_of(json_field(cp, {"address"}));
      k.state = text_of(json_field(cp, {"state"}));
      ci.copies.push_back(k);
    }
    info.chunks.push_back(ci);
  }
  return info;
}

StoredObject read_stored_object(const fs::path& path) {
  StoredObject o;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    o.error = "open " + path.string() + ": " + std::strerror(errno);
    return o;
  }
  std::vector<uint8_t> head(kObjectHeadBlock);
  ssize_t n = ::pread(fd, head.data(), head.size(), 0);
  off_t end = ::lseek(fd, 0, SEEK_END);
  o.file_size = end > 0 ? static_cast<uint64_t>(end) : 0;
  if (n != static_cast<ssize_t>(head.size())) {
    o.error = "short head block (" + std::to_string(n) + " bytes) in " + path.string();
    ::close(fd);
    return o;
  }
  if (std::memcmp(head.data(), "ZHSMOBJ1", 8) != 0) {
    o.error = "no ZHSMOBJ1 magic in " + path.string();
    ::close(fd);
    return o;
  }
  uint32_t len = uint32_t(head[8]) | uint32_t(head[9]) << 8 | uint32_t(head[10]) << 16 |
                 uint32_t(head[11]) << 24;
  if (len == 0 || 12 + len > kObjectHeadBlock) {
    o.error = "bad head length " + std::to_string(len) + " in " + path.string();
    ::close(fd);
    return o;
  }
  try {
    auto words = kj::heapArray<capnp::word>((len + 7) / 8);
    std::memset(words.begin(), 0, words.size() * sizeof(capnp::word));
    std::memcpy(words.begin(), head.data() + 12, len);
    capnp::FlatArrayMessageReader reader(words, reader_limits());
    auto h = reader.getRoot<proto::ObjectHead>();
    if (auto id = Uuid::from_data(h.getUuid())) o.uuid = *id;
    else o.error = "head uuid is not 16 bytes";
    if (auto id = Uuid::from_data(h.getOwner())) o.owner = *id;
    else o.error = "head owner is not 16 bytes";
    o.index = h.getIndex();
    o.version = h.getVersion();
    o.mtime_ns = h.getMtimeNs();
    o.size = h.getSize();
    auto sha = h.getSha256();
    o.head_sha256 = to_hex(sha.begin(), sha.size());
  } catch (const kj::Exception& e) {
    o.error = std::string("head is not an ObjectHead: ") + e.getDescription().cStr();
    ::close(fd);
    return o;
  }
  Sha256 hash;
  std::vector<uint8_t> buf(1 << 20);
  uint64_t off = kObjectHeadBlock;
  for (;;) {
    ssize_t r = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(off));
    if (r < 0) {
      o.error = "read " + path.string() + ": " + std::strerror(errno);
      break;
    }
    if (r == 0) break;
    hash.update(buf.data(), static_cast<size_t>(r));
    off += static_cast<uint64_t>(r);
  }
  o.data_bytes = off - kObjectHeadBlock;
  o.data_sha256 = to_hex(hash.finish());
  ::close(fd);
  return o;
}

std::vector<fs::path> find_object_copies(const Cluster& cluster, const Uuid& id) {
  std::vector<fs::path> out;
  for (int k = 1; k <= cluster.fileservers(); ++k) {
    fs::path p = shard_path(cluster.backend_dir(k), id);
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) out.push_back(p);
  }
  return out;
}

std::vector<fs::path> objects_owned_by(const std::vector<fs::path>& roots, const Uuid& owner) {
  auto is_shard = [](const std::string& name) {
    return name.size() == 2 && std::isxdigit(static_cast<unsigned char>(name[0])) &&
           std::isxdigit(static_cast<unsigned char>(name[1]));
  };
  std::vector<fs::path> out;
  for (const auto& root : roots) {
    std::error_code ec;
    for (fs::directory_iterator a(root, ec), end; !ec && a != end; a.increment(ec)) {
      if (!is_shard(a->path().filename().string()) || !a->is_directory(ec)) continue;
      for (fs::directory_iterator b(a->path(), ec); !ec && b != end; b.increment(ec)) {
        if (!is_shard(b->path().filename().string()) || !b->is_directory(ec)) continue;
        for (fs::directory_iterator o(b->path(), ec); !ec && o != end; o.increment(ec)) {
          if (!o->is_regular_file(ec)) continue;
          StoredObject so = read_stored_object(o->path());
          if (so.error.empty() && so.owner == owner) out.push_back(o->path());
        }
      }
      ec.clear();
    }
  }
  return out;
}

std::string sha256_of_range(const fs::path& path, uint64_t offset, uint64_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  Sha256 hash;
  std::vector<uint8_t> buf(1 << 20);
  uint64_t done = 0;
  while (done < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
    ssize_t r = ::pread(fd, buf.data(), want, static_cast<off_t>(offset + done));
    if (r <= 0) {
      ::close(fd);
      return "";
    }
    hash.update(buf.data(), static_cast<size_t>(r));
    done += static_cast<uint64_t>(r);
  }
  ::close(fd);
  return to_hex(hash.finish());
}

}  // namespace zhsm::test
