// A pre-norm transformer block (GPT-2 shape), x (B, T, C) -> (B, T, C):
//   x2  = x  + proj(attention(qkv(ln_1(x))))
//   out = x2 + fc_proj(gelu(fc(ln_2(x2))))          fc: C -> 4C, fc_proj: 4C -> C
// Its sublayers keep their own inputs for backward; each runs in a nested profiler scope
// ("ln_1", "attn.qkv", ...) inside the block's model.layers.<i>/forward scope.
// With fuse, fc and GELU are one op (linear.h).
#pragma once

#include <memory>

#include "activations.h"
#include "attention.h"
#include "layernorm.h"
#include "linear.h"

namespace engine {

class TransformerBlock final : public Layer {
 public:
  TransformerBlock(Context& ctx, int64_t c, int64_t heads, Rng& rng, bool fuse = false,
                   float density = 1.0f);
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  void release_saved() override;
  void collect_params(std::vector<Param*>& out) override;
  void quantize_int8() override;
  size_t param_bytes() override;

 private:
  int64_t c_;
  LayerNorm ln_1_;
  Linear qkv_;
  Attention attn_;
  Linear proj_;
  LayerNorm ln_2_;
  Linear fc_;
  std::unique_ptr<GELU> gelu_;  // absent when fused into fc_
  Linear fc_proj_;
};

// a + b, element-wise, same shape; a new activation (the residual connection).
Tensor add(const Tensor& a, const Tensor& b, Context& ctx);

}  // namespace engine
