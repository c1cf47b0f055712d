// UUID generation and formatting on top of libuuid.
#include "common/uuid.h"

#include <uuid/uuid.h>

#include <cstring>

namespace zhsm {

Uuid Uuid::random() {
  Uuid id;
  uuid_generate_random(id.bytes.data());
  return id;
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  char buf[37];
  std::memcpy(buf, text.data(), 36);
  buf[36] = '\0';
  Uuid id;
  if (uuid_parse(buf, id.bytes.data()) != 0) return std::nullopt;
  return id;
}

std::optional<Uuid> Uuid::from_data(capnp::Data::Reader data) {
  if (data.size() != 16) return std::nullopt;
  Uuid id;
  std::memcpy(id.bytes.data(), data.begin(), 16);
  return id;
}

bool Uuid::is_nil() const {
  for (auto b : bytes)
    if (b != 0) return false;
  return true;
}

std::string Uuid::str() const {
  char buf[37];
  uuid_unparse_lower(bytes.data(), buf);
  return std::string(buf, 36);
}

std::filesystem::path shard_path(const std::filesystem::path& root, const Uuid& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(32);
  for (auto b : id.bytes) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return root / hex.substr(0, 2) / hex.substr(2, 2) / hex.substr(4);
}

size_t UuidHash::operator()(const Uuid& id) const noexcept {
  uint64_t a, b;
  std::memcpy(&a, id.bytes.data(), 8);
  std::memcpy(&b, id.bytes.data() + 8, 8);
  return a ^ (b * 0x9e3779b97f4a7c15ULL);
}

}  // namespace zhsm
