#include "activations.h"

#include <stdexcept>

#include "kernels.h"

namespace engine::gpu {

namespace {
void require_forward(const DeviceTensor& x, const char* layer) {
  if (!x.defined()) throw std::logic_error(std::string(layer) + "::backward without forward");
}
}  // namespace

DeviceTensor ReLU::forward(const DeviceTensor& x) {
  DeviceTensor y = new_f32(x.shape());
  kernels::relu_forward(y.f32(), x.f32(), x.numel(), device_.stream());
  x_ = x;
  return y;
}

DeviceTensor ReLU::backward(const DeviceTensor& dy) {
  require_forward(x_, "gpu::ReLU");
  DeviceTensor dx = new_f32(x_.shape());
  kernels::relu_backward(dx.f32(), x_.f32(), dy.f32(), dx.numel(), device_.stream());
  release_saved();
  return dx;
}

DeviceTensor GELU::forward(const DeviceTensor& x) {
  DeviceTensor y = new_f32(x.shape());
  kernels::gelu_forward(y.f32(), x.f32(), x.numel(), device_.stream());
  x_ = x;
  return y;
}

DeviceTensor GELU::backward(const DeviceTensor& dy) {
  require_forward(x_, "gpu::GELU");
  DeviceTensor dx = new_f32(x_.shape());
  kernels::gelu_backward(dx.f32(), x_.f32(), dy.f32(), dx.numel(), device_.stream());
  release_saved();
  return dx;
}

}  // namespace engine::gpu
