// Encoding and decoding of the object head block (see object_head.h for the layout).
#include "fileserver/object_head.h"

#include <cstring>
#include <string>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "capnp/zhsm.capnp.h"
#include "common/error.h"

namespace zhsm::fileserver {
namespace {

constexpr char kMagic[8] = {'Z', 'H', 'S', 'M', 'O', 'B', 'J', '1'};
constexpr size_t kPrefix = 12;  // magic + u32 length
constexpr size_t kMaxHeadMessage = kHeadBlockSize - kPrefix;

Uuid uuid_field(capnp::Data::Reader data, const char* name) {
  auto id = Uuid::from_data(data);
  if (!id)
    throw Error(Errc::io, std::string("object head field '") + name + "' is not a 16-byte UUID");
  return *id;
}

}  // namespace

HeadBlock encode_head_block(const ObjectHead& head) {
  capnp::MallocMessageBuilder message(64);
  auto h = message.initRoot<proto::ObjectHead>();
  h.setUuid(head.uuid.data());
  h.setOwner(head.owner.data());
  h.setIndex(head.index);
  h.setVersion(head.version);
  h.setMtimeNs(head.mtime_ns);
  h.setSize(head.size);
  h.setSha256(capnp::Data::Reader(head.sha256.data(), head.sha256.size()));
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();

  HeadBlock block{};
  std::memcpy(block.data(), kMagic, sizeof kMagic);
  uint32_t n = static_cast<uint32_t>(bytes.size());
  for (int i = 0; i < 4; ++i) block[8 + i] = static_cast<uint8_t>(n >> (8 * i));
  // A head is seven small fields: about 150 bytes, far below the block.
  std::memcpy(block.data() + kPrefix, bytes.begin(), bytes.size());
  return block;
}

ObjectHead decode_head_block(const HeadBlock& block) {
  if (std::memcmp(block.data(), kMagic, sizeof kMagic) != 0)
    throw Error(Errc::io, "object head has no ZHSMOBJ1 magic");
  uint32_t n = uint32_t(block[8]) | uint32_t(block[9]) << 8 | uint32_t(block[10]) << 16 |
               uint32_t(block[11]) << 24;
  if (n == 0 || n % 8 != 0 || n > kMaxHeadMessage)
    throw Error(Errc::io, "object head has a bad length " + std::to_string(n));

  // Copy into word-aligned memory: the message starts at offset 12.
  auto words = kj::heapArray<capnp::word>(n / 8);
  std::memcpy(words.begin(), block.data() + kPrefix, n);
  ObjectHead head;
  try {
    capnp::ReaderOptions limits;
    limits.traversalLimitInWords = kHeadBlockSize / 8;
    limits.nestingLimit = 4;
    capnp::FlatArrayMessageReader reader(words, limits);
    auto h = reader.getRoot<proto::ObjectHead>();
    head.uuid = uuid_field(h.getUuid(), "uuid");
    head.owner = uuid_field(h.getOwner(), "owner");
    head.index = h.getIndex();
    head.version = h.getVersion();
    head.mtime_ns = h.getMtimeNs();
    head.size = h.getSize();
    auto sha = h.getSha256();
    if (sha.size() != head.sha256.size())
      throw Error(Errc::io, "object head field 'sha256' is not 32 bytes");
    std::memcpy(head.sha256.data(), sha.begin(), sha.size());
  } catch (const kj::Exception& e) {
    throw Error(Errc::io, std::string("object head is not a valid message: ") +
                              e.getDescription().cStr());
  }
  return head;
}

}  // namespace zhsm::fileserver
