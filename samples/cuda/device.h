// Device: one GPU as the CUDA engine uses it — a stream that every kernel, product and copy is
// queued on (so work runs in the order it is issued, which the caching allocator relies on), a
// cuBLAS handle bound to it, and the allocator that device tensors take their bytes from:
//   DeviceOptions{.caching = false}  one cudaMalloc / cudaFree per tensor;
//   DeviceOptions{.caching = true}   the caching allocator (`--pool`), pool "cuda-caching";
//   DeviceOptions{.unified = true}   either of them over managed memory (`--unified`).
// With managed memory, host ↔ device transfers are no copies through the driver: the host reads
// and writes the tensor's own pages (after the stream is drained), and prefetches move them.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <memory>
#include <string>

#include "device_allocator.h"

namespace engine::gpu {

struct DeviceOptions {
  bool caching = false;
  bool unified = false;
  int ordinal = 0;
};

class Device {
 public:
  // Throws std::runtime_error when the device cannot be used (no CUDA device: <why>).
  explicit Device(const DeviceOptions& options = {});
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  DeviceAllocator& allocator() { return *allocator_; }
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  int ordinal() const { return options_.ordinal; }
  bool unified() const { return options_.unified; }
  // Whether managed memory takes advice and prefetches here (concurrent managed access).
  bool managed_hints() const { return managed_hints_; }
  const std::string& name() const { return name_; }
  // "device" or "managed".
  const char* memory_kind() const;

  // Host → device. The bytes are in place for every kernel queued after the call; `src` may be
  // reused as soon as it returns.
  void to_device(void* dst, const void* src, size_t bytes);
  // Device → host, after the work queued before it.
  void to_host(void* dst, const void* src, size_t bytes);
  void synchronize();

 private:
  DeviceOptions options_;
  std::string name_;
  bool managed_hints_ = false;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  // Declared in the order they are made: the allocator gives its segments back to the source
  // before the source goes.
  std::unique_ptr<SegmentSource> source_;
  std::unique_ptr<DeviceAllocator> allocator_;
};

}  // namespace engine::gpu
