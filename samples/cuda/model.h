// Sequential on the GPU: layers in order, each inside the same profiler scopes as the CPU
// engine's (engine/model.h), so that device memory is attributed to the layer that asked for it:
//   model.layers.<i>/forward   model.layers.<i>/backward
// Scopes are per host thread; the allocator reports each block from the thread that asks, so a
// block lands in the scope of the layer whose forward or backward queued the kernel.
// No checkpointing: the CUDA engine keeps every layer's activations.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layer.h"

namespace engine::gpu {

class Sequential {
 public:
  explicit Sequential(std::string prefix = "model.layers") : prefix_(std::move(prefix)) {}

  Layer& add(std::unique_ptr<Layer> layer);
  size_t size() const { return layers_.size(); }
  Layer& layer(size_t i) { return *layers_[i]; }

  DeviceTensor forward(const DeviceTensor& x);
  void backward(const DeviceTensor& dy);
  DeviceTensor infer(const DeviceTensor& x);

  std::vector<Param*> params();
  std::string describe() const;

 private:
  std::string prefix_;
  std::vector<std::unique_ptr<Layer>> layers_;
  // Built once: a scope takes a C string that must stay valid.
  std::vector<std::string> forward_scope_, backward_scope_;
};

}  // namespace engine::gpu
