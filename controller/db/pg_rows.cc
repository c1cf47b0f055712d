// libpqxx value conversions (see pg_rows.h).
#include "controller/db/pg_rows.h"

#include <fmt/format.h>

#include "common/error.h"

namespace zhsm {

std::string attr_columns(std::string_view t) {
  return fmt::format(
      "{0}ino, {0}fsid, {0}type, {0}mode, {0}uid, {0}gid, {0}nlink, {0}size, {0}rdev, "
      "{0}atime_ns, {0}mtime_ns, {0}ctime_ns, {0}version",
      t);
}

InodeAttr attr_from_row(const pqxx::row& r, int c) {
  InodeAttr a;
  a.ino = r[c + 0].as<uint64_t>();
  a.fsid = uuid_of(r[c + 1]);
  a.type = static_cast<proto::FileType>(r[c + 2].as<int>());
  a.mode = r[c + 3].as<uint32_t>();
  a.uid = static_cast<uint32_t>(r[c + 4].as<int64_t>());
  a.gid = static_cast<uint32_t>(r[c + 5].as<int64_t>());
  a.nlink = static_cast<uint32_t>(r[c + 6].as<int64_t>());
  a.size = r[c + 7].as<uint64_t>();
  a.rdev = static_cast<uint64_t>(r[c + 8].as<int64_t>());
  a.atime_ns = r[c + 9].as<int64_t>();
  a.mtime_ns = r[c + 10].as<int64_t>();
  a.ctime_ns = r[c + 11].as<int64_t>();
  a.version = r[c + 12].as<uint64_t>();
  return a;
}

pqxx::binarystring bytes_param(std::string_view bytes) {
  return pqxx::binarystring(std::string(bytes));
}

std::string bytes_of(const pqxx::field& field) {
  if (field.is_null()) return {};
  return pqxx::binarystring(field).str();
}

Uuid uuid_of(const pqxx::field& field) {
  auto id = Uuid::parse(field.c_str());
  if (!id) throw Error(Errc::internal, fmt::format("database holds a malformed UUID '{}'",
                                                   field.c_str()));
  return *id;
}

std::string bigint_array(const std::vector<uint64_t>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(static_cast<int64_t>(ids[i]));
  }
  return out + "}";
}

}  // namespace zhsm
