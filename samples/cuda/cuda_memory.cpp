#include "cuda_memory.h"

#include "cuda_check.h"

namespace engine::gpu {

namespace {

// Out of memory is an answer (the caching allocator then frees its cache and retries); any
// other failure is an error.
bool out_of_memory(cudaError_t status, const char* call) {
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    return true;
  }
  check_cuda(status, call, __FILE__, __LINE__);
  return false;
}

#if CUDART_VERSION >= 13000
cudaMemLocation location_of(int device) {
  cudaMemLocation loc{};
  loc.type = device >= 0 ? cudaMemLocationTypeDevice : cudaMemLocationTypeHost;
  loc.id = device >= 0 ? device : 0;
  return loc;
}
#endif

}  // namespace

void* CudaMallocSource::allocate_segment(size_t bytes) {
  void* p = nullptr;
  return out_of_memory(cudaMalloc(&p, bytes), "cudaMalloc") ? nullptr : p;
}

void CudaMallocSource::free_segment(void* segment, size_t) {
  CUDA_WARN(cudaFree(segment));  // called from destructors too: never throws
}

void* ManagedSource::allocate_segment(size_t bytes) {
  void* p = nullptr;
  if (out_of_memory(cudaMallocManaged(&p, bytes, cudaMemAttachGlobal), "cudaMallocManaged")) {
    return nullptr;
  }
  if (hints_) {
#if CUDART_VERSION >= 13000
    CUDA_CHECK(cudaMemAdvise(p, bytes, cudaMemAdviseSetPreferredLocation, location_of(device_)));
#else
    CUDA_CHECK(cudaMemAdvise(p, bytes, cudaMemAdviseSetPreferredLocation, device_));
#endif
  }
  return p;
}

void ManagedSource::free_segment(void* segment, size_t) {
  CUDA_WARN(cudaFree(segment));
}

void prefetch(const void* p, size_t bytes, int device, cudaStream_t stream) {
#if CUDART_VERSION >= 13000
  CUDA_CHECK(cudaMemPrefetchAsync(p, bytes, location_of(device), 0, stream));
#else
  CUDA_CHECK(cudaMemPrefetchAsync(p, bytes, device >= 0 ? device : cudaCpuDeviceId, stream));
#endif
}

}  // namespace engine::gpu
