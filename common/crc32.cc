// CRC-32 through ISA-L (see crc32.h).
#include "common/crc32.h"

#include <isa-l/crc.h>

namespace zhsm {

uint32_t crc32_of(const void* data, size_t size) {
  return crc32_gzip_refl(0, static_cast<const unsigned char*>(data), size);
}

}  // namespace zhsm
