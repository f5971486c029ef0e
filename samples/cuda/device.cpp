#include "device.h"

#include <cstring>
#include <stdexcept>

#include "caching_allocator.h"
#include "cuda_check.h"
#include "cuda_memory.h"

namespace engine::gpu {

Device::Device(const DeviceOptions& options) : options_(options) {
  if (const std::string problem = cuda_device_problem(); !problem.empty()) {
    throw std::runtime_error(problem);
  }
  CUDA_CHECK(cudaSetDevice(options_.ordinal));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, options_.ordinal));
  name_ = prop.name;
  managed_hints_ = prop.concurrentManagedAccess != 0;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  CUBLAS_CHECK(cublasCreate(&cublas_));
  CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  // Plain f32 products (no TF32 tensor cores), so that results agree with the CPU engine.
  CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_PEDANTIC_MATH));
  if (options_.unified) {
    source_ = std::make_unique<ManagedSource>(options_.ordinal, managed_hints_);
  } else {
    source_ = std::make_unique<CudaMallocSource>();
  }
  if (options_.caching) {
    allocator_ = std::make_unique<CachingAllocator>(
        *source_, options_.unified ? "cuda-caching-managed" : "cuda-caching");
  } else {
    allocator_ = std::make_unique<DirectAllocator>(*source_);
  }
}

Device::~Device() {
  CUDA_WARN(cudaStreamSynchronize(stream_));
  allocator_.reset();
  source_.reset();
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) CUDA_WARN(cudaStreamDestroy(stream_));
}

const char* Device::memory_kind() const {
  return source_->kind();
}

void Device::to_device(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  if (!options_.unified) {
    // From pageable memory the copy is staged before the call returns, so `src` is free to go.
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
    return;
  }
  // The block may have belonged to a tensor that queued kernels still read: drain them first.
  synchronize();
  std::memcpy(dst, src, bytes);
  if (managed_hints_) prefetch(dst, bytes, options_.ordinal, stream_);
}

void Device::to_host(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  if (!options_.unified) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    synchronize();
    return;
  }
  // Moving the pages in one prefetch costs less than a fault per page on the host's first read.
  if (managed_hints_) prefetch(src, bytes, -1, stream_);
  synchronize();
  std::memcpy(dst, src, bytes);
}

void Device::synchronize() {
  CUDA_CHECK(cudaStreamSynchronize(stream_));
}

}  // namespace engine::gpu
