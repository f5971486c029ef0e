// LayerNorm over the last dimension: x (N, C) -> (x - mean) / sqrt(var + 1e-5) * g + b.
// Keeps x and, per row, the mean and 1/std (f32, N each) for backward.
#pragma once

#include "layer.h"

namespace engine {

class LayerNorm final : public Layer {
 public:
  LayerNorm(Context& ctx, int64_t c);
  std::string describe() const override { return "LayerNorm(" + std::to_string(c_) + ")"; }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  void release_saved() override;
  void collect_params(std::vector<Param*>& out) override;

 private:
  int64_t c_;
  Param gain_, bias_;   // (C)
  Tensor x_;            // (N, C)
  Tensor mean_, rstd_;  // f32 (N)
};

}  // namespace engine
