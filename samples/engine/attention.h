// Causal scaled-dot-product self-attention (the core, without projections; see transformer.h):
//   qkv (B, T, 3C) -> y (B, T, C),  NH heads of size HS = C / NH.
// For each head: att = softmax(q·kᵀ / sqrt(HS)) with future positions masked, y = att·v.
// Keeps qkv and att (B, NH, T, T) for backward — the T² term that makes attention the largest
// activation of a transformer at long T.
#pragma once

#include "layer.h"

namespace engine {

class Attention final : public Layer {
 public:
  Attention(Context& ctx, int64_t c, int64_t heads);
  std::string describe() const override;
  Tensor forward(const Tensor& qkv) override;
  Tensor backward(const Tensor& dy) override;
  void release_saved() override;

 private:
  int64_t c_, nh_;
  Tensor qkv_;  // (B, T, 3C)
  Tensor att_;  // (B, NH, T, T)
};

}  // namespace engine
