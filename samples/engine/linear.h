// Linear: y = act(x · Wᵀ + b) over the last dimension.
//   x (N, IN) — N is every leading dimension, so (B, T, IN) works the same —, W (OUT, IN), b (OUT).
//
// The weight takes one of three forms:
//   dense         f32/f16/bf16 (OUT, IN);
//   CSR           after pruning to a density below 1 (`--sparse D`, csr.h), fixed pattern;
//   int8          after quantize_int8() (`--int8`, int8.h), inference only.
//
// With an activation, this is the fused op of `--fuse`: bias and activation are applied to the
// product in place, so the pre-activation never exists as a tensor of its own. Backward then
// keeps only what it cannot avoid: for ReLU the output (its sign is the mask); for GELU nothing
// extra — the pre-activation is recomputed from the kept input, one more product for one less
// (N, OUT) activation.
#pragma once

#include "activations.h"
#include "csr.h"
#include "int8.h"
#include "layer.h"
#include "rng.h"

namespace engine {

class Linear final : public Layer {
 public:
  // Weights ~ N(0, 1/IN) (scaled up by 1/sqrt(density) when pruned, to keep the output's
  // variance), biases zero. Draws IN*OUT normals from `rng` whatever the options, so that
  // fused/unfused and dense/sparse builds start from the same numbers.
  Linear(Context& ctx, int64_t in, int64_t out, Rng& rng, Activation act = Activation::None,
         float density = 1.0f);

  std::string describe() const override;
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  void release_saved() override;
  void collect_params(std::vector<Param*>& out) override;
  void quantize_int8() override;

  bool sparse() const { return csr_.nnz > 0; }
  bool quantized() const { return q_.q.defined(); }
  size_t param_bytes() override;

 private:
  // y (N, OUT) = x · Wᵀ in whichever form the weight is in.
  void product(float* y, const float* x, int64_t n);

  int64_t in_, out_;
  Activation act_;
  Param weight_;    // (OUT, IN), or (NNZ) values when sparse; undefined once quantized
  Param bias_;      // (OUT)
  CsrPattern csr_;  // nnz == 0 when dense
  Int8Rows q_;      // defined once quantized
  Tensor x_;        // kept input (N, IN)
  Tensor y_;        // kept output (N, OUT), fused ReLU only
};

}  // namespace engine
