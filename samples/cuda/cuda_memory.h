// The two backings of device tensors (SegmentSource, device_allocator.h):
//   CudaMallocSource  device memory (cudaMalloc / cudaFree);
//   ManagedSource     unified memory (`--unified`, cudaMallocManaged): one address valid on host
//                     and device, pages migrated on demand. Each segment is advised to live on
//                     the device (cudaMemAdviseSetPreferredLocation), and Device moves the pages
//                     the host has written back with cudaMemPrefetchAsync before kernels read
//                     them, so that kernels do not stall on page faults.
#pragma once

#include <cuda_runtime.h>

#include "device_allocator.h"

namespace engine::gpu {

class CudaMallocSource final : public SegmentSource {
 public:
  void* allocate_segment(size_t bytes) override;
  void free_segment(void* segment, size_t bytes) override;
  const char* kind() const override { return "device"; }
};

class ManagedSource final : public SegmentSource {
 public:
  // With `hints` false (a device without concurrent managed access, where advice and prefetch
  // are refused), segments are plain managed memory.
  ManagedSource(int device, bool hints) : device_(device), hints_(hints) {}
  void* allocate_segment(size_t bytes) override;
  void free_segment(void* segment, size_t bytes) override;
  const char* kind() const override { return "managed"; }

 private:
  int device_;
  bool hints_;
};

// cudaMemPrefetchAsync to the device (`device` >= 0) or to the host (`device` < 0).
void prefetch(const void* p, size_t bytes, int device, cudaStream_t stream);

}  // namespace engine::gpu
