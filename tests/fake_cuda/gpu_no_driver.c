/* A CUDA program on a machine with no driver: every runtime call fails, the
   program carries on with host memory only. */
#include <stdio.h>
#include <stdlib.h>

#include "fake_runtime.h"
#include "memtide/annotate.h"

int main(void) {
  void* device = NULL;
  memtide_marker("begin");
  void* host = malloc(4096);
  const int result = cudaMalloc(&device, 1 << 20);
  free(host);
  memtide_marker("end");
  printf("cudaMalloc: %d\n", result);
  return result == 0;  /* success here would mean a driver was found */
}
