#include "linear.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "matmul.h"

namespace engine {

Linear::Linear(Context& ctx, int64_t in, int64_t out, Rng& rng, Activation act, float density)
    : Layer(ctx), in_(in), out_(out), act_(act) {
  const float stddev = 1.0f / std::sqrt(static_cast<float>(in)) /
                       std::sqrt(std::min(1.0f, std::max(density, 1e-6f)));
  auto init_weight = [&](float* w, int64_t n) {
    for (int64_t i = 0; i < n; ++i) w[i] = stddev * rng.normal();
  };
  auto zero = [](float* b, int64_t n) { std::fill(b, b + n, 0.0f); };
  if (density < 1.0f) {
    // Prune the dense initial weight by magnitude; only the CSR form is ever kept.
    Tensor dense = Tensor::empty({out, in}, DType::F32, ctx.alloc);
    init_weight(dense.data<float>(), dense.numel());
    Tensor values;
    csr_ = csr_prune(dense.data<float>(), out, in, density, ctx.alloc, &values);
    weight_ = make_param(ctx, "weight", {csr_.nnz}, [&](float* w, int64_t n) {
      std::copy(values.data<float>(), values.data<float>() + n, w);
    });
  } else {
    weight_ = make_param(ctx, "weight", {out, in}, init_weight);
  }
  bias_ = make_param(ctx, "bias", {out}, zero, /*weight_decay=*/false);
}

std::string Linear::describe() const {
  std::string s = "Linear(" + std::to_string(in_) + " -> " + std::to_string(out_);
  if (act_ != Activation::None) s += std::string(", fused ") + activation_name(act_);
  if (sparse()) s += ", csr nnz=" + std::to_string(csr_.nnz);
  if (quantized()) s += ", int8";
  return s + ")";
}

void Linear::product(float* y, const float* x, int64_t n) {
  if (quantized()) {
    if (sparse()) {
      int8_csr_matmul_forward(y, x, q_, csr_, n, ctx_.alloc);
    } else {
      int8_matmul_forward(y, x, q_, n, in_, out_, ctx_.alloc);
    }
    return;
  }
  F32Read w(weight_.value);
  if (sparse()) {
    csr_matmul_forward(y, x, csr_, w.data(), n);
  } else {
    matmul_forward(y, x, w.data(), n, in_, out_);
  }
}

Tensor Linear::forward(const Tensor& x) {
  expect_shape(x.shape().last() == in_, *this, "input (N, IN)", x.shape());
  const int64_t n = x.shape().rows();
  Tensor y = new_activation(x.shape().with_last(out_));
  {
    F32Read in(x);
    F32Write out(y);
    product(out.data(), in.data(), n);
    F32Read b(bias_.value);
    bias_forward(out.data(), b.data(), n, out_);
    if (act_ == Activation::ReLU) relu_forward(out.data(), out.data(), n * out_);
    if (act_ == Activation::GELU) gelu_forward(out.data(), out.data(), n * out_);
    out.commit();
  }
  x_ = x;
  if (act_ == Activation::ReLU) y_ = y;
  return y;
}

Tensor Linear::backward(const Tensor& dy) {
  if (quantized()) throw std::logic_error("Linear: an int8 layer is inference-only");
  if (!x_.defined()) throw std::logic_error("Linear::backward without forward");
  const int64_t n = x_.shape().rows();
  Tensor dx = new_activation(x_.shape());
  {
    F32Read x(x_), g(dy);
    // dz: the gradient before the activation. Without one it is dy itself.
    const float* dz = g.data();
    Tensor dz_buffer;
    if (act_ != Activation::None) {
      dz_buffer = new_f32({n, out_});
      float* d = dz_buffer.data<float>();
      if (act_ == Activation::ReLU) {
        F32Read y(y_);
        relu_backward(d, y.data(), g.data(), n * out_);
      } else {
        // Recompute the pre-activation z = x·Wᵀ + b into the buffer, then dz = gelu'(z) * dy.
        product(d, x.data(), n);
        F32Read b(bias_.value);
        bias_forward(d, b.data(), n, out_);
        gelu_backward(d, d, g.data(), n * out_);
      }
      dz = d;
    }
    F32Read w(weight_.value);
    F32Write dxw(dx), dw(weight_.grad), db(bias_.grad);
    if (sparse()) {
      csr_matmul_backward(dxw.data(), dw.data(), dz, x.data(), csr_, w.data(), n);
    } else {
      matmul_backward(dxw.data(), dw.data(), dz, x.data(), w.data(), n, in_, out_);
    }
    bias_backward(db.data(), dz, n, out_);
    dxw.commit();
    dw.commit();
    db.commit();
  }
  release_saved();
  return dx;
}

void Linear::release_saved() {
  x_ = Tensor();
  y_ = Tensor();
}

void Linear::collect_params(std::vector<Param*>& out) {
  if (quantized()) return;
  out.push_back(&weight_);
  out.push_back(&bias_);
}

void Linear::quantize_int8() {
  if (quantized()) return;
  F32Read w(weight_.value);
  q_ = sparse() ? quantize_csr_rows(w.data(), csr_, ctx_.alloc)
                : quantize_rows(w.data(), out_, in_, ctx_.alloc);
  // The float weight and its gradient go: an int8 model holds only int8 weights.
  weight_.value = Tensor();
  weight_.grad = Tensor();
  bias_.grad = Tensor();
}

size_t Linear::param_bytes() {
  size_t bytes = quantized() ? q_.q.nbytes() + q_.scale.nbytes() : weight_.value.nbytes();
  if (sparse()) bytes += csr_.row_ptr.nbytes() + csr_.col_idx.nbytes();
  return bytes + bias_.value.nbytes();
}

}  // namespace engine
