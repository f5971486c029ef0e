// Layer: the unit of the engine. Each layer has a paired forward and backward (after llm.c):
// forward computes its output and keeps what backward will need; backward takes dL/d(output),
// sets the gradients of the layer's parameters and returns dL/d(input), then lets go of what
// forward kept. Sequential (model.h) runs layers in order, each in a named profiler scope.
#pragma once

#include <string>
#include <vector>

#include "tensor.h"

namespace engine {

// What every layer of a model shares: where tensors come from and which float type activations
// and parameters are stored in (f32, f16 or bf16; arithmetic is f32 regardless).
struct Context {
  Allocator& alloc;
  DType dtype = DType::F32;
};

// A trainable tensor and its gradient, same shape and dtype. Each parameter is used once per
// forward pass, so backward *sets* the gradient rather than adding to it: no zeroing pass.
struct Param {
  std::string name;
  Tensor value;
  Tensor grad;
  bool weight_decay = true;  // AdamW decays matrices, not biases or norm gains
};

// Creates a parameter and its gradient, filled by `init` (called with the f32 values to fill).
template <class Init>
Param make_param(Context& ctx, std::string name, const Shape& shape, Init&& init,
                 bool weight_decay = true) {
  Param p{std::move(name), Tensor::empty(shape, ctx.dtype, ctx.alloc),
          Tensor::zeros(shape, ctx.dtype, ctx.alloc), weight_decay};
  F32Write w(p.value);
  init(w.data(), shape.numel());
  w.commit();
  return p;
}

class Layer {
 public:
  explicit Layer(Context& ctx) : ctx_(ctx) {}
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;
  virtual ~Layer() = default;

  // A short description, e.g. "Linear(128 -> 64, relu)".
  virtual std::string describe() const = 0;
  virtual Tensor forward(const Tensor& x) = 0;
  // Must follow a forward; returns an empty tensor for inputs that have no gradient (token ids).
  virtual Tensor backward(const Tensor& dy) = 0;
  // Drops what forward kept (inference, or a layer that checkpointing will recompute).
  virtual void release_saved() = 0;
  virtual void collect_params(std::vector<Param*>& out) { (void)out; }
  // Replaces f32/f16 weights with int8 ones; the layer is inference-only afterwards.
  virtual void quantize_int8() {}
  // Bytes holding the layer's parameters in their current form (values, sparse indices, int8
  // scales); gradients and optimizer state not included.
  virtual size_t param_bytes();

 protected:
  Tensor new_activation(const Shape& shape) const {
    return Tensor::empty(shape, ctx_.dtype, ctx_.alloc);
  }
  Tensor new_f32(const Shape& shape) const { return Tensor::empty(shape, DType::F32, ctx_.alloc); }

  Context& ctx_;
};

// Throws std::invalid_argument naming the layer when a shape is not what it expects. `what` is
// a literal: the check runs on every call, the message is built only on failure.
void expect_shape(bool ok, const Layer& layer, const char* what, const Shape& got);

}  // namespace engine
