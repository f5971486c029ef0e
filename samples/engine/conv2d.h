// Conv2d, stride 1, "same" padding (k/2), odd kernel size k:
//   x (B, CIN, H, W) -> y (B, COUT, H, W),  W (COUT, CIN*k*k),  b (COUT).
// Computed one image at a time as a product with its patch matrix (im2col):
//   P (H*W, CIN*k*k), one row per output pixel;  y_b viewed as (H*W, COUT) = P · Wᵀ.
// The patch matrix is a workspace of one image, rebuilt in backward from the kept input rather
// than kept for the whole batch (k*k times the input's size).
// With fuse_relu, ReLU is applied in place and backward keeps the output as its mask (`--fuse`).
#pragma once

#include "int8.h"
#include "layer.h"
#include "rng.h"

namespace engine {

class Conv2d final : public Layer {
 public:
  Conv2d(Context& ctx, int64_t cin, int64_t cout, int64_t k, Rng& rng, bool fuse_relu = false);

  std::string describe() const override;
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  void release_saved() override;
  void collect_params(std::vector<Param*>& out) override;
  void quantize_int8() override;
  size_t param_bytes() override;

 private:
  int64_t cin_, cout_, k_;
  bool fuse_relu_;
  Param weight_;  // (COUT, CIN*k*k)
  Param bias_;    // (COUT)
  Int8Rows q_;    // defined once quantized
  Tensor x_;      // kept input (B, CIN, H, W)
  Tensor y_;      // kept output, fused ReLU only
};

// MaxPool2d with a 2x2 window and stride 2: x (B, C, H, W) -> (B, C, H/2, W/2), H and W even.
// Keeps its input; backward finds each window's maximum again (the first one on ties).
class MaxPool2d final : public Layer {
 public:
  using Layer::Layer;
  std::string describe() const override { return "MaxPool2d(2)"; }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  void release_saved() override { x_ = Tensor(); }

 private:
  Tensor x_;
};

// (B, d1, d2, ...) -> (B, d1*d2*...): a view, no copy.
class Flatten final : public Layer {
 public:
  using Layer::Layer;
  std::string describe() const override { return "Flatten"; }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override { return dy.view(in_shape_); }
  void release_saved() override {}

 private:
  Shape in_shape_;
};

}  // namespace engine
