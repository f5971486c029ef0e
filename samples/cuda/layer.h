// The CUDA engine's layer interface: engine/layer.h with device tensors. Same contract — paired
// forward/backward, backward *sets* the parameters' gradients and lets go of what forward kept —
// so that Sequential (model.h) can run it under the same profiler scopes.
#pragma once

#include <string>
#include <vector>

#include "device.h"
#include "device_tensor.h"

namespace engine::gpu {

struct Param {
  std::string name;
  DeviceTensor value;
  DeviceTensor grad;
  bool weight_decay = true;
};

class Layer {
 public:
  explicit Layer(Device& device) : device_(device) {}
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;
  virtual ~Layer() = default;

  virtual std::string describe() const = 0;
  virtual DeviceTensor forward(const DeviceTensor& x) = 0;
  virtual DeviceTensor backward(const DeviceTensor& dy) = 0;
  virtual void release_saved() = 0;
  virtual void collect_params(std::vector<Param*>& out) { (void)out; }

 protected:
  DeviceTensor new_f32(const Shape& shape) const {
    return DeviceTensor::empty(shape, DType::F32, device_);
  }

  Device& device_;
};

}  // namespace engine::gpu
