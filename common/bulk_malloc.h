// Heap settings for a process that moves bulk data through short-lived buffers of up
// to a few MiB (the client's reads and writes, the file server's readObject answers
// and write pieces). glibc serves such sizes with mmap and gives them back at once,
// so every piece paid for page faults and the zeroing of new pages: a third of the
// client's time in a sequential write, and most of the file server's in a sequential
// read. Kept heaps cost at most the trim threshold per arena in resident memory.
#pragma once

namespace zhsm {

// Call first thing in main(), before any thread starts. Not thread-safe.
void tune_malloc_for_bulk_io();

}  // namespace zhsm
