// Heap settings for bulk data (see bulk_malloc.h).
#include "common/bulk_malloc.h"

#include <malloc.h>

namespace zhsm {

void tune_malloc_for_bulk_io() {
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
  mallopt(M_ARENA_MAX, 2);
}

}  // namespace zhsm
