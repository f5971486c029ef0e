/* One GPU allocation of every kind, through the three ways programs reach the
   driver: a CUDA runtime (cuGetProcAddress), a library with its own lookup
   (fake_blas), and direct calls linked to libcuda. The integration tests
   compare the trace with exactly these calls. */
#define _GNU_SOURCE
#include <cuda.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fake_runtime.h"
#include "memtide/annotate.h"

int fake_blas_create(size_t workspace_bytes);
const char* fake_blas_next_malloc_module(void);

static const char* next_malloc_module(void) {
  Dl_info info;
  void* next = dlsym(RTLD_NEXT, "malloc");
  if (next == NULL || dladdr(next, &info) == 0 || info.dli_fname == NULL) return "none";
  const char* slash = strrchr(info.dli_fname, '/');
  return slash ? slash + 1 : info.dli_fname;
}

#define KiB ((size_t)1024)
#define MiB (KiB * 1024)

static int failures;
static void check(int result, int expected, const char* what) {
  if (result != expected) {
    fprintf(stderr, "%s returned %d, expected %d\n", what, result, expected);
    ++failures;
  }
}

__attribute__((noinline)) static void layer_forward(void** a, void** b) {
  size_t pitch = 0;
  check(cudaMalloc(a, 1 * MiB), 0, "cudaMalloc");
  check(cudaMallocPitch(b, &pitch, 1000, 10), 0, "cudaMallocPitch");
}

/* Virtual memory management through libcuda's exported names. */
__attribute__((noinline)) static void vmm_sequence(void) {
  CUdeviceptr va = 0;
  CUmemGenericAllocationHandle first = 0, second = 0;
  CUmemAllocationProp prop = {0};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = 1;
  check(cuMemAddressReserve(&va, 8 * MiB, 0, 0, 0), 0, "cuMemAddressReserve");
  check(cuMemCreate(&first, 2 * MiB, &prop, 0), 0, "cuMemCreate");
  check(cuMemCreate(&second, 2 * MiB, &prop, 0), 0, "cuMemCreate");
  check(cuMemMap(va, 2 * MiB, 0, first, 0), 0, "cuMemMap");
  check(cuMemMap(va + 2 * MiB, 2 * MiB, 0, second, 0), 0, "cuMemMap");
  check(cuMemUnmap(va, 4 * MiB), 0, "cuMemUnmap");  /* ends both mappings */
  check(cuMemRelease(first), 0, "cuMemRelease");
  check(cuMemRelease(second), 0, "cuMemRelease");
  check(cuMemAddressFree(va, 8 * MiB), 0, "cuMemAddressFree");
}

int main(void) {
  void *a = NULL, *b = NULL, *managed = NULL, *pinned = NULL, *pinned2 = NULL, *pinned3 = NULL;
  void *async = NULL, *pooled = NULL, *captured = NULL, *too_big = NULL;
  CUstream stream = (CUstream)(uintptr_t)0x1234;
  CUstream capture_stream = (CUstream)(uintptr_t)0x9999;
  CUmemoryPool pool = (CUmemoryPool)(uintptr_t)0x5678;

  check(cudaSetDevice(0), 0, "cudaSetDevice");
  memtide_marker("begin");
  memtide_scope_enter("layer.0/forward");
  layer_forward(&a, &b);
  memtide_scope_leave();
  check(cudaSetDevice(1), 0, "cudaSetDevice");
  check(cudaMallocManaged(&managed, 2 * MiB, 1), 0, "cudaMallocManaged");
  check(cudaMallocHost(&pinned, 64 * KiB), 0, "cudaMallocHost");
  check(cudaHostAlloc(&pinned2, 128 * KiB, 0), 0, "cudaHostAlloc");
  check(cuMemAllocHost(&pinned3, 4 * KiB), 0, "cuMemAllocHost");
  check(cudaMallocAsync(&async, 3 * MiB, stream), 0, "cudaMallocAsync");
  check(cudaMallocFromPoolAsync(&pooled, 5000, pool, stream), 0, "cudaMallocFromPoolAsync");
  check(cudaStreamBeginCapture(capture_stream), 0, "cudaStreamBeginCapture");
  check(cudaMallocAsync(&captured, 7 * MiB, capture_stream), 0, "cudaMallocAsync (captured)");
  check(cudaFreeAsync(captured, capture_stream), 0, "cudaFreeAsync (captured)");
  check(cudaStreamEndCapture(capture_stream), 0, "cudaStreamEndCapture");
  check(cudaMalloc(&too_big, (size_t)2 << 40), CUDA_ERROR_OUT_OF_MEMORY, "cudaMalloc 2 TiB");
  check(cudaFree(NULL), 0, "cudaFree(NULL)");
  vmm_sequence();
  check(fake_blas_create(4 * MiB), 0, "fake_blas_create");  /* left live at exit */
  check(cudaFree(a), 0, "cudaFree");
  check(cudaFree(b), 0, "cudaFree");
  check(cudaFree(managed), 0, "cudaFree");
  check(cudaFreeHost(pinned), 0, "cudaFreeHost");
  check(cudaFreeHost(pinned2), 0, "cudaFreeHost");
  check(cuMemFreeHost(pinned3), 0, "cuMemFreeHost");
  check(cudaFreeAsync(async, stream), 0, "cudaFreeAsync");
  check(cudaFreeAsync(pooled, stream), 0, "cudaFreeAsync");
  memtide_marker("end");
  /* dlsym(RTLD_NEXT) must stay relative to its caller. */
  printf("next malloc from main: %s\n", next_malloc_module());
  printf("next malloc from fake_blas: %s\n", fake_blas_next_malloc_module());
  printf("gpu_every_kind: %d failures\n", failures);
  return failures != 0;
}
