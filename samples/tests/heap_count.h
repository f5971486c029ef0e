// A heap counter for tests: this test program defines malloc, free and friends itself (they
// forward to glibc's __libc_* entry points), and counts, while enabled, every call and every
// block still outstanding. Also tells a new[] array released with free() (a mismatch).
// Single-threaded use only; the table has a fixed size and never allocates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heap_count {

struct Counts {
  int64_t calls = 0;        // malloc, calloc, realloc, aligned allocs and frees
  int64_t outstanding = 0;  // blocks allocated while enabled and not freed since
  int64_t outstanding_bytes = 0;
  int64_t peak_outstanding_bytes = 0;
  int64_t new_free_mismatches = 0;  // free() of a block from new[]
};

// Starts counting from zero.
void start();
// Stops counting (blocks allocated while counting are still recognised when freed later).
Counts stop();

}  // namespace heap_count
