/* A fake CUDA driver (libcuda.so.1) for testing memtide's GPU recording on
   machines without a GPU. Host memory stands behind the real API names and
   the real lookup path: cuGetProcAddress (both ABIs, per-thread-stream
   variants) as the CUDA runtime uses it, and the exported symbols for
   programs linked to -lcuda. Device memory is never touched by the tests, so
   "device" blocks are ordinary malloc blocks; virtual-memory reservations are
   fake address ranges. cuInit honours CUDA_INJECTION64_PATH like the real
   driver. */
#define _GNU_SOURCE
#include <cuda.h>
/* The unversioned name is the pre-12.0 ABI; cuda.h maps it to _v2. */
#undef cuGetProcAddress
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

/* Anything larger "does not fit on the device". */
static const size_t kDeviceBytes = (size_t)1 << 40;

static __thread int t_device = -1;
static uint64_t g_next_va = 0x7e0000000000ull;
static CUstream g_capturing[16];

static CUresult host_block(void** p, size_t bytes) {
  if (p == NULL) return CUDA_ERROR_INVALID_VALUE;
  if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  if (bytes > kDeviceBytes) return CUDA_ERROR_OUT_OF_MEMORY;
  *p = malloc(bytes);
  return *p ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

EXPORT CUresult cuInit(unsigned flags) {
  (void)flags;
  static int done;
  if (done++) return CUDA_SUCCESS;
  const char* injection = getenv("CUDA_INJECTION64_PATH");
  if (injection && *injection) {
    void* lib = dlopen(injection, RTLD_NOW);
    int (*init)(void) = lib ? (int (*)(void))dlsym(lib, "InitializeInjection") : NULL;
    if (init) init();
  }
  return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext* ctx, CUdevice device) {
  *ctx = (CUcontext)(uintptr_t)(device + 1);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxSetCurrent(CUcontext ctx) {
  t_device = (int)(uintptr_t)ctx - 1;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxGetDevice(CUdevice* device) {
  if (t_device < 0) return CUDA_ERROR_INVALID_CONTEXT;
  *device = t_device;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamBeginCapture_v2(CUstream stream, CUstreamCaptureMode mode) {
  (void)mode;
  for (int i = 0; i < 16; ++i)
    if (g_capturing[i] == NULL) {
      g_capturing[i] = stream;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_UNKNOWN;
}

EXPORT CUresult cuStreamEndCapture(CUstream stream, CUgraph* graph) {
  if (graph) *graph = NULL;
  for (int i = 0; i < 16; ++i)
    if (g_capturing[i] == stream) g_capturing[i] = NULL;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamIsCapturing(CUstream stream, CUstreamCaptureStatus* status) {
  *status = CU_STREAM_CAPTURE_STATUS_NONE;
  for (int i = 0; i < 16; ++i)
    if (stream != NULL && g_capturing[i] == stream) *status = CU_STREAM_CAPTURE_STATUS_ACTIVE;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamIsCapturing_ptsz(CUstream stream, CUstreamCaptureStatus* status) {
  return cuStreamIsCapturing(stream, status);
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
  void* p = NULL;
  CUresult r = host_block(&p, bytes);
  if (r == CUDA_SUCCESS) *dptr = (CUdeviceptr)p;
  return r;
}

EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr* dptr, size_t* pitch, size_t width, size_t height,
                                   unsigned element_bytes) {
  (void)element_bytes;
  *pitch = (width + 511) & ~(size_t)511;
  return cuMemAlloc_v2(dptr, *pitch * height);
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr dptr) {
  free((void*)dptr);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAllocManaged(CUdeviceptr* dptr, size_t bytes, unsigned flags) {
  (void)flags;
  /* Through the global name, as a driver might call its own entry point:
     under the agent this reaches memtide's exported cuMemAlloc_v2 from inside
     the wrapped cuMemAllocManaged, and must not count as a second block. */
  CUresult (*alloc)(CUdeviceptr*, size_t) =
      (CUresult(*)(CUdeviceptr*, size_t))dlsym(RTLD_DEFAULT, "cuMemAlloc_v2");
  return (alloc ? alloc : cuMemAlloc_v2)(dptr, bytes);
}

EXPORT CUresult cuMemAllocHost_v2(void** pp, size_t bytes) {
  return host_block(pp, bytes);
}

EXPORT CUresult cuMemHostAlloc(void** pp, size_t bytes, unsigned flags) {
  (void)flags;
  return host_block(pp, bytes);
}

EXPORT CUresult cuMemFreeHost(void* p) {
  free(p);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAllocAsync(CUdeviceptr* dptr, size_t bytes, CUstream stream) {
  (void)stream;
  return cuMemAlloc_v2(dptr, bytes);
}

EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr* dptr, size_t bytes, CUstream stream) {
  return cuMemAllocAsync(dptr, bytes, stream);
}

EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr* dptr, size_t bytes, CUmemoryPool pool,
                                        CUstream stream) {
  (void)pool;
  return cuMemAllocAsync(dptr, bytes, stream);
}

EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr* dptr, size_t bytes, CUmemoryPool pool,
                                             CUstream stream) {
  return cuMemAllocFromPoolAsync(dptr, bytes, pool, stream);
}

EXPORT CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream stream) {
  (void)stream;
  return cuMemFree_v2(dptr);
}

EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream stream) {
  return cuMemFreeAsync(dptr, stream);
}

EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle* handle, size_t bytes,
                            const CUmemAllocationProp* prop, unsigned long long flags) {
  (void)prop;
  (void)flags;
  if (bytes > kDeviceBytes) return CUDA_ERROR_OUT_OF_MEMORY;
  void* record = malloc(16);
  *handle = (CUmemGenericAllocationHandle)(uintptr_t)record;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle handle) {
  free((void*)(uintptr_t)handle);
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAddressReserve(CUdeviceptr* ptr, size_t bytes, size_t alignment,
                                    CUdeviceptr hint, unsigned long long flags) {
  (void)alignment;
  (void)hint;
  (void)flags;
  *ptr = (CUdeviceptr)g_next_va;
  g_next_va += (bytes + 0xFFFFF) & ~(uint64_t)0xFFFFF;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAddressFree(CUdeviceptr ptr, size_t bytes) {
  (void)ptr;
  (void)bytes;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuMemMap(CUdeviceptr ptr, size_t bytes, size_t offset,
                         CUmemGenericAllocationHandle handle, unsigned long long flags) {
  (void)ptr;
  (void)bytes;
  (void)offset;
  (void)flags;
  return handle ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

EXPORT CUresult cuMemUnmap(CUdeviceptr ptr, size_t bytes) {
  (void)ptr;
  (void)bytes;
  return CUDA_SUCCESS;
}

/* The lookup table of cuGetProcAddress: base name, the per-thread-stream
   variant where there is one. */
struct ProcEntry {
  const char* name;
  void* function;
  void* per_thread;
};

EXPORT CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int version, cuuint64_t flags,
                                    CUdriverProcAddressQueryResult* status);
EXPORT CUresult cuGetProcAddress(const char* symbol, void** pfn, int version, cuuint64_t flags);

static const struct ProcEntry kProcs[] = {
    {"cuInit", (void*)cuInit, NULL},
    {"cuDevicePrimaryCtxRetain", (void*)cuDevicePrimaryCtxRetain, NULL},
    {"cuCtxSetCurrent", (void*)cuCtxSetCurrent, NULL},
    {"cuCtxGetDevice", (void*)cuCtxGetDevice, NULL},
    {"cuStreamBeginCapture", (void*)cuStreamBeginCapture_v2, NULL},
    {"cuStreamEndCapture", (void*)cuStreamEndCapture, NULL},
    {"cuStreamIsCapturing", (void*)cuStreamIsCapturing, (void*)cuStreamIsCapturing_ptsz},
    {"cuMemAlloc", (void*)cuMemAlloc_v2, NULL},
    {"cuMemAllocPitch", (void*)cuMemAllocPitch_v2, NULL},
    {"cuMemFree", (void*)cuMemFree_v2, NULL},
    {"cuMemAllocManaged", (void*)cuMemAllocManaged, NULL},
    {"cuMemAllocHost", (void*)cuMemAllocHost_v2, NULL},
    {"cuMemHostAlloc", (void*)cuMemHostAlloc, NULL},
    {"cuMemFreeHost", (void*)cuMemFreeHost, NULL},
    {"cuMemAllocAsync", (void*)cuMemAllocAsync, (void*)cuMemAllocAsync_ptsz},
    {"cuMemAllocFromPoolAsync", (void*)cuMemAllocFromPoolAsync,
     (void*)cuMemAllocFromPoolAsync_ptsz},
    {"cuMemFreeAsync", (void*)cuMemFreeAsync, (void*)cuMemFreeAsync_ptsz},
    {"cuMemCreate", (void*)cuMemCreate, NULL},
    {"cuMemRelease", (void*)cuMemRelease, NULL},
    {"cuMemMap", (void*)cuMemMap, NULL},
    {"cuMemUnmap", (void*)cuMemUnmap, NULL},
    {"cuMemAddressReserve", (void*)cuMemAddressReserve, NULL},
    {"cuMemAddressFree", (void*)cuMemAddressFree, NULL},
};

EXPORT CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int version, cuuint64_t flags,
                                    CUdriverProcAddressQueryResult* status) {
  if (status) *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  *pfn = NULL;
  if (strcmp(symbol, "cuGetProcAddress") == 0) {
    *pfn = version >= 12000 ? (void*)cuGetProcAddress_v2 : (void*)cuGetProcAddress;
  } else {
    for (size_t i = 0; i < sizeof(kProcs) / sizeof(kProcs[0]); ++i)
      if (strcmp(symbol, kProcs[i].name) == 0) {
        const int per_thread = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;
        *pfn = per_thread && kProcs[i].per_thread ? kProcs[i].per_thread : kProcs[i].function;
      }
  }
  if (*pfn == NULL) return CUDA_ERROR_NOT_FOUND;
  if (status) *status = CU_GET_PROC_ADDRESS_SUCCESS;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuGetProcAddress(const char* symbol, void** pfn, int version, cuuint64_t flags) {
  return cuGetProcAddress_v2(symbol, pfn, version, flags, NULL);
}
