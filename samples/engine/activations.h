// Element-wise activations: the kernels, and ReLU / GELU as layers of their own. Linear and
// Conv2d can also apply an activation inside the same op (`--fuse`, see linear.h).
#pragma once

#include <cstdint>

#include "layer.h"

namespace engine {

enum class Activation { None, ReLU, GELU };
const char* activation_name(Activation a);

void relu_forward(float* y, const float* x, int64_t n);
// dx = dy where x > 0. Works as well with the output y in place of x: y > 0 exactly where x > 0,
// which is why a fused Linear+ReLU needs to keep only its output.
void relu_backward(float* dx, const float* x, const float* dy, int64_t n);

// GELU, tanh approximation (as in GPT-2 and llm.c).
void gelu_forward(float* y, const float* x, int64_t n);
// dx may be the same buffer as x.
void gelu_backward(float* dx, const float* x, const float* dy, int64_t n);

// Keeps its input x (N, C) for backward: relu'(x) = [x > 0].
class ReLU final : public Layer {
 public:
  using Layer::Layer;
  std::string describe() const override { return "ReLU"; }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  void release_saved() override { x_ = Tensor(); }

 private:
  Tensor x_;
};

// Keeps its input x (N, C): GELU's derivative needs it.
class GELU final : public Layer {
 public:
  using Layer::Layer;
  std::string describe() const override { return "GELU"; }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  void release_saved() override { x_ = Tensor(); }

 private:
  Tensor x_;
};

}  // namespace engine
