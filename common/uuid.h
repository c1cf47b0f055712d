// UUIDs (FSIDs, object, backend and server ids) and the sharded object path
// ROOT/aa/bb/rest-of-uuid that every backend uses.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <capnp/blob.h>

namespace zhsm {

struct Uuid {
  std::array<uint8_t, 16> bytes{};

  // A fresh random (version 4) UUID. Thread-safe.
  static Uuid random();
  // Parses the canonical 36-character form; nullopt if malformed.
  static std::optional<Uuid> parse(std::string_view text);
  // From 16 bytes of wire data; nullopt unless exactly 16 bytes.
  static std::optional<Uuid> from_data(capnp::Data::Reader data);

  bool is_nil() const;
  std::string str() const;  // canonical lower-case 8-4-4-4-12 form
  capnp::Data::Reader data() const { return capnp::Data::Reader(bytes.data(), bytes.size()); }

  auto operator<=>(const Uuid&) const = default;
};

// ROOT/aa/bb/<remaining 32 hex digits>, where aa and bb are the first two bytes.
std::filesystem::path shard_path(const std::filesystem::path& root, const Uuid& id);

struct UuidHash {
  size_t operator()(const Uuid& id) const noexcept;
};

}  // namespace zhsm
