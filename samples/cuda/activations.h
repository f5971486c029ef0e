// ReLU and GELU as layers of their own on the GPU (engine/activations.h on device tensors).
// Each keeps its input (N, C) for backward.
#pragma once

#include "layer.h"

namespace engine::gpu {

class ReLU final : public Layer {
 public:
  using Layer::Layer;
  std::string describe() const override { return "ReLU(cuda)"; }
  DeviceTensor forward(const DeviceTensor& x) override;
  DeviceTensor backward(const DeviceTensor& dy) override;
  void release_saved() override { x_ = DeviceTensor(); }

 private:
  DeviceTensor x_;
};

class GELU final : public Layer {
 public:
  using Layer::Layer;
  std::string describe() const override { return "GELU(cuda)"; }
  DeviceTensor forward(const DeviceTensor& x) override;
  DeviceTensor backward(const DeviceTensor& dy) override;
  void release_saved() override { x_ = DeviceTensor(); }

 private:
  DeviceTensor x_;
};

}  // namespace engine::gpu
