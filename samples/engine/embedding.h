// Token and position embedding: tokens (B, T) i32 -> y (B, T, C) = wte[token] + wpe[t].
// Keeps the tokens for backward; returns no input gradient (token ids are not differentiable).
#pragma once

#include "layer.h"
#include "rng.h"

namespace engine {

class Embedding final : public Layer {
 public:
  // wte (V, C), wpe (T, C) ~ N(0, 0.02^2), as GPT-2.
  Embedding(Context& ctx, int64_t vocab, int64_t max_len, int64_t c, Rng& rng);
  std::string describe() const override;
  Tensor forward(const Tensor& tokens) override;
  Tensor backward(const Tensor& dy) override;
  void release_saved() override { tokens_ = Tensor(); }
  void collect_params(std::vector<Param*>& out) override;

 private:
  int64_t vocab_, max_len_, c_;
  Param wte_, wpe_;
  Tensor tokens_;
};

}  // namespace engine
