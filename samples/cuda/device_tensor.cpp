#include "device_tensor.h"

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "device.h"

namespace engine::gpu {

struct DeviceTensor::Storage {
  Device& device;
  void* ptr;
  Storage(Device& d, size_t bytes) : device(d), ptr(d.allocator().allocate(bytes)) {}
  ~Storage() { device.allocator().deallocate(ptr); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

DeviceTensor DeviceTensor::empty(const Shape& shape, DType dtype, Device& device) {
  if (dtype != DType::F32 && dtype != DType::I32) {
    throw std::invalid_argument(std::string("DeviceTensor: no CUDA kernels for dtype ") +
                                dtype_name(dtype));
  }
  DeviceTensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.storage_ = std::make_shared<Storage>(device, t.nbytes());
  return t;
}

DeviceTensor DeviceTensor::zeros(const Shape& shape, DType dtype, Device& device) {
  DeviceTensor t = empty(shape, dtype, device);
  CUDA_CHECK(cudaMemsetAsync(t.data(), 0, t.nbytes(), device.stream()));
  return t;
}

DeviceTensor DeviceTensor::from_host(const Tensor& host, Device& device) {
  DeviceTensor t = empty(host.shape(), host.dtype(), device);
  device.to_device(t.data(), host.raw(), t.nbytes());
  return t;
}

Tensor DeviceTensor::to_host(Allocator& alloc) const {
  Tensor host = Tensor::empty(shape_, dtype_, alloc);
  device().to_host(host.raw(), data(), nbytes());
  return host;
}

Device& DeviceTensor::device() const {
  if (!storage_) throw std::logic_error("DeviceTensor: access to an empty tensor");
  return storage_->device;
}

void* DeviceTensor::data() const {
  if (!storage_) throw std::logic_error("DeviceTensor: access to an empty tensor");
  return storage_->ptr;
}

void DeviceTensor::check(DType expected) const {
  if (dtype_ != expected) {
    throw std::logic_error(std::string("DeviceTensor: typed access does not match dtype ") +
                           dtype_name(dtype_));
  }
}

float* DeviceTensor::f32() {
  check(DType::F32);
  return static_cast<float*>(data());
}

const float* DeviceTensor::f32() const {
  check(DType::F32);
  return static_cast<const float*>(data());
}

const int32_t* DeviceTensor::i32() const {
  check(DType::I32);
  return static_cast<const int32_t*>(data());
}

DeviceTensor DeviceTensor::view(const Shape& shape) const {
  if (shape.numel() != numel()) {
    throw std::invalid_argument("DeviceTensor::view: " + shape_.str() + " cannot be seen as " +
                                shape.str());
  }
  DeviceTensor t = *this;
  t.shape_ = shape;
  return t;
}

}  // namespace engine::gpu
