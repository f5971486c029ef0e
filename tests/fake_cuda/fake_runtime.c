/* A fake CUDA runtime (the tests' libcudart): reaches the driver exactly as
   the real runtime does, dlopen("libcuda.so.1") then cuGetProcAddress for
   every entry point, with the per-thread-default-stream variants when
   FAKE_CUDART_PER_THREAD=1 (as nvcc --default-stream per-thread would). */
#define _GNU_SOURCE
#include "fake_runtime.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

typedef CUresult (*GetProcAddress)(const char*, void**, int, cuuint64_t,
                                   CUdriverProcAddressQueryResult*);

static struct {
  CUresult (*init)(unsigned);
  CUresult (*primary_ctx_retain)(CUcontext*, CUdevice);
  CUresult (*ctx_set_current)(CUcontext);
  CUresult (*mem_alloc)(CUdeviceptr*, size_t);
  CUresult (*mem_alloc_pitch)(CUdeviceptr*, size_t*, size_t, size_t, unsigned);
  CUresult (*mem_free)(CUdeviceptr);
  CUresult (*mem_alloc_managed)(CUdeviceptr*, size_t, unsigned);
  CUresult (*mem_alloc_host)(void**, size_t);
  CUresult (*mem_host_alloc)(void**, size_t, unsigned);
  CUresult (*mem_free_host)(void*);
  CUresult (*mem_alloc_async)(CUdeviceptr*, size_t, CUstream);
  CUresult (*mem_alloc_from_pool)(CUdeviceptr*, size_t, CUmemoryPool, CUstream);
  CUresult (*mem_free_async)(CUdeviceptr, CUstream);
  CUresult (*begin_capture)(CUstream, CUstreamCaptureMode);
  CUresult (*end_capture)(CUstream, CUgraph*);
} d;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_ready;

static void load_driver(void) {
  const char* driver = getenv("FAKE_CUDA_DRIVER");  /* a path that does not exist: no driver */
  void* lib = dlopen(driver && *driver ? driver : "libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (lib == NULL) return;
  GetProcAddress gpa = (GetProcAddress)dlsym(lib, "cuGetProcAddress_v2");
  if (gpa == NULL) return;
  const char* pt = getenv("FAKE_CUDART_PER_THREAD");
  const cuuint64_t flags = pt && *pt == '1' ? CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM
                                            : CU_GET_PROC_ADDRESS_DEFAULT;
#define GET(field, name, version) gpa(name, (void**)&d.field, version, flags, NULL)
  GET(init, "cuInit", 2000);
  GET(primary_ctx_retain, "cuDevicePrimaryCtxRetain", 7000);
  GET(ctx_set_current, "cuCtxSetCurrent", 4000);
  GET(mem_alloc, "cuMemAlloc", 3020);
  GET(mem_alloc_pitch, "cuMemAllocPitch", 3020);
  GET(mem_free, "cuMemFree", 3020);
  GET(mem_alloc_managed, "cuMemAllocManaged", 6000);
  GET(mem_alloc_host, "cuMemAllocHost", 3020);
  GET(mem_host_alloc, "cuMemHostAlloc", 2020);
  GET(mem_free_host, "cuMemFreeHost", 2000);
  GET(mem_alloc_async, "cuMemAllocAsync", 11020);
  GET(mem_alloc_from_pool, "cuMemAllocFromPoolAsync", 11020);
  GET(mem_free_async, "cuMemFreeAsync", 11020);
  GET(begin_capture, "cuStreamBeginCapture", 10010);
  GET(end_capture, "cuStreamEndCapture", 10000);
#undef GET
  g_ready = d.init != NULL && d.init(0) == CUDA_SUCCESS;
}

static int ready(void) {
  pthread_once(&g_once, load_driver);
  return g_ready;
}

#define NO_DRIVER 35 /* cudaErrorInsufficientDriver */

cudaError_t cudaSetDevice(int device) {
  if (!ready()) return NO_DRIVER;
  CUcontext ctx;
  d.primary_ctx_retain(&ctx, device);
  return (cudaError_t)d.ctx_set_current(ctx);
}

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.mem_alloc((CUdeviceptr*)p, bytes);
}

cudaError_t cudaMallocPitch(void** p, size_t* pitch, size_t width, size_t height) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.mem_alloc_pitch((CUdeviceptr*)p, pitch, width, height, 4);
}

cudaError_t cudaFree(void* p) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.mem_free((CUdeviceptr)p);
}

cudaError_t cudaMallocManaged(void** p, size_t bytes, unsigned flags) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.mem_alloc_managed((CUdeviceptr*)p, bytes, flags);
}

cudaError_t cudaMallocHost(void** p, size_t bytes) {
  if (!ready()) return NO_DRIVER;
  /* The real runtime maps cudaMallocHost to cuMemHostAlloc as well. */
  return (cudaError_t)d.mem_host_alloc(p, bytes, 0);
}

cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned flags) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.mem_host_alloc(p, bytes, flags);
}

cudaError_t cudaFreeHost(void* p) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.mem_free_host(p);
}

cudaError_t cudaMallocAsync(void** p, size_t bytes, CUstream stream) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.mem_alloc_async((CUdeviceptr*)p, bytes, stream);
}

cudaError_t cudaMallocFromPoolAsync(void** p, size_t bytes, CUmemoryPool pool, CUstream stream) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.mem_alloc_from_pool((CUdeviceptr*)p, bytes, pool, stream);
}

cudaError_t cudaFreeAsync(void* p, CUstream stream) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.mem_free_async((CUdeviceptr)p, stream);
}

cudaError_t cudaStreamBeginCapture(CUstream stream) {
  if (!ready()) return NO_DRIVER;
  return (cudaError_t)d.begin_capture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL);
}

cudaError_t cudaStreamEndCapture(CUstream stream) {
  if (!ready()) return NO_DRIVER;
  CUgraph graph;
  return (cudaError_t)d.end_capture(stream, &graph);
}
