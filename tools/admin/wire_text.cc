// Text forms of UUIDs, digests and protocol enums for zhsm-admin.
#include "tools/admin/wire_text.h"

#include "common/sha256.h"
#include "common/uuid.h"

namespace zhsm::admin {

std::string uuid_text(capnp::Data::Reader data) {
  if (auto id = Uuid::from_data(data)) return id->str();
  return hex_text(data) + "?";
}

std::string short_uuid_text(capnp::Data::Reader data) {
  if (auto id = Uuid::from_data(data)) return id->str().substr(0, 8);
  return uuid_text(data);
}

std::string data_text(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

std::string hex_text(capnp::Data::Reader data) { return to_hex(data.begin(), data.size()); }

std::string file_type_name(proto::FileType type) {
  switch (type) {
    case proto::FileType::REGULAR: return "regular";
    case proto::FileType::DIRECTORY: return "directory";
    case proto::FileType::SYMLINK: return "symlink";
    case proto::FileType::FIFO: return "fifo";
    case proto::FileType::SOCKET: return "socket";
    case proto::FileType::CHAR_DEVICE: return "char_device";
    case proto::FileType::BLOCK_DEVICE: return "block_device";
  }
  return "unknown(" + std::to_string(static_cast<int>(type)) + ")";
}

char file_type_letter(proto::FileType type) {
  switch (type) {
    case proto::FileType::REGULAR: return '-';
    case proto::FileType::DIRECTORY: return 'd';
    case proto::FileType::SYMLINK: return 'l';
    case proto::FileType::FIFO: return 'p';
    case proto::FileType::SOCKET: return 's';
    case proto::FileType::CHAR_DEVICE: return 'c';
    case proto::FileType::BLOCK_DEVICE: return 'b';
  }
  return '?';
}

std::string copy_state_name(proto::CopyState state) {
  switch (state) {
    case proto::CopyState::CURRENT: return "current";
    case proto::CopyState::OUTDATED: return "outdated";
    case proto::CopyState::TARGET: return "target";
  }
  return "unknown(" + std::to_string(static_cast<int>(state)) + ")";
}

}  // namespace zhsm::admin
