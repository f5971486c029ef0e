// Linear on the GPU: y = act(x · Wᵀ + b) over the last dimension, the products on cuBLAS.
//   x (N, IN), W (OUT, IN), b (OUT), y (N, OUT); f32, dense.
// Built from a CPU engine::Linear, whose weights it copies: a network is drawn on the host by
// the CPU engine's own code and moved over, so both engines start from the same numbers.
// An activation is fused as on the CPU (`--fuse`): ReLU is applied in place and its output kept
// as the mask; GELU is not fused here (the MLP fuses ReLU only).
#pragma once

#include "engine/activations.h"
#include "engine/linear.h"
#include "layer.h"

namespace engine::gpu {

class Linear final : public Layer {
 public:
  // `host` must be dense and f32. `act` is None or ReLU.
  Linear(Device& device, engine::Linear& host, Activation act = Activation::None);

  std::string describe() const override;
  DeviceTensor forward(const DeviceTensor& x) override;
  DeviceTensor backward(const DeviceTensor& dy) override;
  void release_saved() override;
  void collect_params(std::vector<Param*>& out) override;

 private:
  int64_t in_, out_;
  Activation act_;
  Param weight_;    // (OUT, IN)
  Param bias_;      // (OUT)
  DeviceTensor x_;  // kept input (N, IN)
  DeviceTensor y_;  // kept output (N, OUT), fused ReLU only
};

// The products of Linear in cuBLAS's column-major terms (see linear.cpp), for reuse and tests.
// y (N, OUT) = x · wᵀ
void matmul_forward(Device& device, float* y, const float* x, const float* w, int64_t n, int64_t in,
                    int64_t out);
// dx (N, IN) = dy · w (skipped when dx is null); dw (OUT, IN) = dyᵀ · x
void matmul_backward(Device& device, float* dx, float* dw, const float* dy, const float* x,
                     const float* w, int64_t n, int64_t in, int64_t out);

}  // namespace engine::gpu
