/* A library that, like cuBLAS, finds the driver on its own: from its
   constructor (before the preloaded agent's constructor may have run) it
   looks up cuGetProcAddress by its pre-12.0 name with dlsym, and later makes
   its workspace allocation through what that returned. */
#define _GNU_SOURCE
#include <cuda.h>
#include <dlfcn.h>
#include <stddef.h>

typedef CUresult (*GetProcAddressV1)(const char*, void**, int, cuuint64_t);

static CUresult (*g_mem_alloc)(CUdeviceptr*, size_t);
static CUresult (*g_mem_free)(CUdeviceptr);
static CUdeviceptr g_workspace;

__attribute__((constructor)) static void find_driver(void) {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (lib == NULL) return;
  GetProcAddressV1 gpa = (GetProcAddressV1)dlsym(lib, "cuGetProcAddress");
  if (gpa == NULL) return;
  gpa("cuMemAlloc", (void**)&g_mem_alloc, 11000, CU_GET_PROC_ADDRESS_DEFAULT);
  gpa("cuMemFree", (void**)&g_mem_free, 11000, CU_GET_PROC_ADDRESS_DEFAULT);
}

__attribute__((noinline)) int fake_blas_create(size_t workspace_bytes) {
  return g_mem_alloc ? (int)g_mem_alloc(&g_workspace, workspace_bytes) : -1;
}

int fake_blas_destroy(void) {
  return g_mem_free ? (int)g_mem_free(g_workspace) : -1;
}

#include <string.h>

/* Where dlsym(RTLD_NEXT, "malloc") leads from this library: the object after
   it in load order, so never a preloaded library. */
__attribute__((visibility("default"))) const char* fake_blas_next_malloc_module(void) {
  Dl_info info;
  void* next = dlsym(RTLD_NEXT, "malloc");
  if (next == NULL || dladdr(next, &info) == 0 || info.dli_fname == NULL) return "none";
  const char* slash = strrchr(info.dli_fname, '/');
  return slash ? slash + 1 : info.dli_fname;
}
