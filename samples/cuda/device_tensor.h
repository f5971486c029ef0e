// DeviceTensor: a shape, a dtype (f32 or i32) and a counted handle on bytes in GPU memory.
//
// Copying shares the bytes, as engine::Tensor does, and the last handle gives them back to the
// device's allocator. The count cannot sit in a header inside the block as on the CPU — the
// host cannot touch device memory — so it lives in a small host-side control block.
// Contiguous, row-major; shape letters as in engine/tensor.h.
#pragma once

#include <memory>

#include "engine/tensor.h"

namespace engine::gpu {

class Device;

class DeviceTensor {
 public:
  DeviceTensor() = default;
  // Uninitialised bytes.
  static DeviceTensor empty(const Shape& shape, DType dtype, Device& device);
  static DeviceTensor zeros(const Shape& shape, DType dtype, Device& device);
  // A device copy of an f32 or i32 host tensor.
  static DeviceTensor from_host(const Tensor& host, Device& device);
  // A host copy, from `alloc`.
  Tensor to_host(Allocator& alloc) const;

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  int64_t numel() const { return shape_.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  Device& device() const;
  int64_t use_count() const { return storage_.use_count(); }

  // Device pointers, checked against the dtype.
  float* f32();
  const float* f32() const;
  const int32_t* i32() const;

  // The same bytes seen with another shape of equal numel.
  DeviceTensor view(const Shape& shape) const;

 private:
  struct Storage;
  void* data() const;
  void check(DType expected) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  DType dtype_ = DType::F32;
};

}  // namespace engine::gpu
