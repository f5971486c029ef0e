/* A caching allocator in miniature on the fake driver: one 4 MiB segment
   carved into annotated pool blocks, next to a plain 2 MiB allocation. The
   GPU reconciliation must split the driver's 6 MiB into the pool's reserve
   and use and the rest. */
#include <stdint.h>
#include <stdio.h>

#include "fake_runtime.h"
#include "memtide/annotate.h"

#define MiB ((size_t)1 << 20)

int main(void) {
  char* segment = NULL;
  void* workspace = NULL;
  if (cudaSetDevice(0) != 0 || cudaMalloc((void**)&segment, 4 * MiB) != 0) return 1;
  static int pool;
  memtide_pool_created(&pool, "fake-caching");
  memtide_pool_allocated(&pool, segment, 1 * MiB);
  memtide_pool_allocated(&pool, segment + 1 * MiB, 512 * 1024);
  memtide_pool_allocated(&pool, segment + 2 * MiB, 256 * 1024);
  memtide_pool_freed(&pool, segment + 1 * MiB);
  if (cudaMalloc(&workspace, 2 * MiB) != 0) return 1;
  memtide_marker("check");
  printf("gpu_pool: done\n");
  return 0;
}
