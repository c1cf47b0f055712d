// `zhsm-admin file info PATH`: one fileInfo call to the controller, shown as the
// inode's attributes, how its data is kept (inline in the database or as data
// objects of chunk size bytes), and for a chunked file every data object (index,
// UUID, version, size, SHA-256) and every copy of it (backend, server, address,
// copy state and the version that copy holds).
#include <nlohmann/json.hpp>

#include "tools/admin/commands.h"
#include "tools/admin/table.h"
#include "tools/admin/wire_text.h"

namespace zhsm::admin {

namespace {

using nlohmann::json;

json file_info_json(const std::string& path, proto::FileInfoReply::Reader fi) {
  auto a = fi.getAttr();
  json chunks = json::array();
  for (auto c : fi.getChunks()) {
    json copies = json::array();
    for (auto cp : c.getCopies()) {
      // Field names follow the wire (CopyRef): backend and server are UUIDs.
      copies.push_back({{"backend", uuid_text(cp.getBackend())},
                        {"backend_name", cp.getBackendName().cStr()},
                        {"server", uuid_text(cp.getServer())},
                        {"server_name", cp.getServerName().cStr()},
                        {"address", cp.getAddress().cStr()},
                        {"state", copy_state_name(cp.getState())},
                        {"version", cp.getVersion()}});
    }
    chunks.push_back({{"index", c.getIndex()},
                      {"uuid", uuid_text(c.getUuid())},
                      {"version", c.getVersion()},
                      {"size", c.getSize()},
                      {"sha256", hex_text(c.getSha256())},
                      {"copies", std::move(copies)}});
  }
  return {{"path", path},
          {"ino", a.getIno()},
          {"fsid", uuid_text(a.getFsid())},
          {"type", file_type_name(a.getType())},
          {"mode", a.getMode()},
          {"nlink", a.getNlink()},
          {"uid", a.getUid()},
          {"gid", a.getGid()},
          {"size", a.getSize()},
          {"rdev", a.getRdev()},
          {"atime_ns", a.getAtimeNs()},
          {"mtime_ns", a.getMtimeNs()},
          {"ctime_ns", a.getCtimeNs()},
          {"version", a.getVersion()},
          {"inline", fi.getInline()},
          {"chunk_size", fi.getChunkSize()},
          {"chunks", std::move(chunks)}};
}

void print_file_info(const std::string& path, proto::FileInfoReply::Reader fi,
                     std::ostream& out) {
  auto a = fi.getAttr();
  bool regular = a.getType() == proto::FileType::REGULAR;
  std::vector<std::pair<std::string, std::string>> fields = {
      {"path", path},
      {"inode", std::to_string(a.getIno())},
      {"fsid", uuid_text(a.getFsid())},
      {"type", file_type_name(a.getType())},
      {"mode", human_mode(a.getMode(), file_type_letter(a.getType()))},
      {"links", std::to_string(a.getNlink())},
      {"owner", "uid " + std::to_string(a.getUid()) + ", gid " + std::to_string(a.getGid())},
      {"size", human_bytes(a.getSize()) + " (" + std::to_string(a.getSize()) + " bytes)"},
      {"modified", human_time_ns(a.getMtimeNs())},
      {"changed", human_time_ns(a.getCtimeNs())},
      {"accessed", human_time_ns(a.getAtimeNs())},
      {"version", std::to_string(a.getVersion())},
  };
  if (regular) {
    auto chunks = fi.getChunks();
    if (fi.getInline()) {
      fields.push_back({"data", "inline (kept in the database)"});
    } else {
      std::string n = std::to_string(chunks.size());
      fields.push_back({"data", "chunked, " + n + (chunks.size() == 1 ? " data object" : " data objects")});
    }
    fields.push_back({"chunk size", human_bytes(fi.getChunkSize()) + " (" +
                                        std::to_string(fi.getChunkSize()) + " bytes)"});
  }
  print_fields(out, fields);
  if (!regular || fi.getInline()) return;

  using A = Table::Align;
  Table objects({{"INDEX", A::right}, {"UUID"}, {"VERSION", A::right}, {"SIZE", A::right}, {"SHA256"}});
  Table copies({{"INDEX", A::right}, {"BACKEND"}, {"SERVER"}, {"ADDRESS"}, {"STATE"}, {"VERSION", A::right}});
  for (auto c : fi.getChunks()) {
    objects.add_row({std::to_string(c.getIndex()), uuid_text(c.getUuid()),
                     std::to_string(c.getVersion()), human_bytes(c.getSize()),
                     hex_text(c.getSha256())});
    for (auto cp : c.getCopies())
      copies.add_row({std::to_string(c.getIndex()), cp.getBackendName().cStr(),
                      cp.getServerName().cStr(), cp.getAddress().cStr(),
                      copy_state_name(cp.getState()), std::to_string(cp.getVersion())});
  }
  out << "\nDATA OBJECTS\n";
  objects.print(out);
  out << "\nCOPIES\n";
  copies.print(out);
}

}  // namespace

void run_file_info(ControllerLink& link, const std::string& ns_path, bool json_out,
                   std::ostream& out) {
  Reply reply = link.call(
      [&](proto::Request::Builder r) {
        r.initFileInfo().setPath(capnp::Data::Reader(
            reinterpret_cast<const capnp::byte*>(ns_path.data()), ns_path.size()));
      },
      proto::Response::FILE_INFO, "file info for " + ns_path);
  auto fi = reply.response().getFileInfo();
  if (json_out)
    out << file_info_json(ns_path, fi).dump(2, ' ', false, json::error_handler_t::replace)
        << '\n';
  else
    print_file_info(ns_path, fi, out);
}

}  // namespace zhsm::admin
