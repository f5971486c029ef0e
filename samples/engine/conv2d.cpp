#include "conv2d.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "activations.h"

namespace engine {

namespace {
using MatRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatCM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// P (H*W, C*k*k) for one image x (C, H, W); zero outside the image.
void im2col(float* p, const float* x, int64_t c, int64_t h, int64_t w, int64_t k) {
  const int64_t pad = k / 2, cols = c * k * k;
  for (int64_t oy = 0; oy < h; ++oy) {
    for (int64_t ox = 0; ox < w; ++ox) {
      float* row = p + (oy * w + ox) * cols;
      for (int64_t ci = 0; ci < c; ++ci) {
        for (int64_t ky = 0; ky < k; ++ky) {
          for (int64_t kx = 0; kx < k; ++kx) {
            const int64_t iy = oy + ky - pad, ix = ox + kx - pad;
            const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
            *row++ = inside ? x[(ci * h + iy) * w + ix] : 0.0f;
          }
        }
      }
    }
  }
}

// The adjoint of im2col: dx (C, H, W) = sum of each patch gradient at its place.
void col2im(float* dx, const float* dp, int64_t c, int64_t h, int64_t w, int64_t k) {
  const int64_t pad = k / 2, cols = c * k * k;
  std::fill(dx, dx + c * h * w, 0.0f);
  for (int64_t oy = 0; oy < h; ++oy) {
    for (int64_t ox = 0; ox < w; ++ox) {
      const float* row = dp + (oy * w + ox) * cols;
      for (int64_t ci = 0; ci < c; ++ci) {
        for (int64_t ky = 0; ky < k; ++ky) {
          for (int64_t kx = 0; kx < k; ++kx, ++row) {
            const int64_t iy = oy + ky - pad, ix = ox + kx - pad;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) dx[(ci * h + iy) * w + ix] += *row;
          }
        }
      }
    }
  }
}
}  // namespace

Conv2d::Conv2d(Context& ctx, int64_t cin, int64_t cout, int64_t k, Rng& rng, bool fuse_relu)
    : Layer(ctx), cin_(cin), cout_(cout), k_(k), fuse_relu_(fuse_relu) {
  if (k % 2 == 0) throw std::invalid_argument("Conv2d: kernel size must be odd");
  const float stddev = std::sqrt(2.0f / static_cast<float>(cin * k * k));  // He, for ReLU nets
  weight_ = make_param(ctx, "weight", {cout, cin * k * k}, [&](float* w, int64_t n) {
    for (int64_t i = 0; i < n; ++i) w[i] = stddev * rng.normal();
  });
  bias_ = make_param(
      ctx, "bias", {cout}, [](float* b, int64_t n) { std::fill(b, b + n, 0.0f); }, false);
}

std::string Conv2d::describe() const {
  return "Conv2d(" + std::to_string(cin_) + " -> " + std::to_string(cout_) +
         ", k=" + std::to_string(k_) + (fuse_relu_ ? ", fused relu" : "") +
         (q_.q.defined() ? ", int8" : "") + ")";
}

Tensor Conv2d::forward(const Tensor& x) {
  expect_shape(x.shape().rank() == 4 && x.shape()[1] == cin_, *this, "input (B, CIN, H, W)",
               x.shape());
  const int64_t b = x.shape()[0], h = x.shape()[2], w = x.shape()[3], hw = h * w;
  const int64_t kk = cin_ * k_ * k_;
  Tensor y = new_activation({b, cout_, h, w});
  {
    F32Read in(x), bias(bias_.value);
    F32Write out(y);
    Tensor patches = new_f32({hw, kk});  // workspace: one image's patch matrix
    float* p = patches.data<float>();
    Tensor q_out;  // int8 path: (H*W, COUT) before it is transposed into y
    if (q_.q.defined()) q_out = new_f32({hw, cout_});
    std::optional<F32Read> wt;  // no float weight once quantized
    if (!q_.q.defined()) wt.emplace(weight_.value);
    for (int64_t i = 0; i < b; ++i) {
      im2col(p, in.data() + i * cin_ * hw, cin_, h, w, k_);
      float* y_i = out.data() + i * cout_ * hw;
      // y_i is (COUT, H*W) row-major, the same memory as a column-major (H*W, COUT) matrix.
      Eigen::Map<MatCM> y_t(y_i, hw, cout_);
      if (q_.q.defined()) {
        int8_matmul_forward(q_out.data<float>(), p, q_, hw, kk, cout_, ctx_.alloc);
        y_t = Eigen::Map<const MatRM>(q_out.data<float>(), hw, cout_);
      } else {
        y_t.noalias() = Eigen::Map<const MatRM>(p, hw, kk) *
                        Eigen::Map<const MatRM>(wt->data(), cout_, kk).transpose();
      }
      y_t.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias.data(), cout_);
    }
    if (fuse_relu_) relu_forward(out.data(), out.data(), y.numel());
    out.commit();
  }
  x_ = x;
  if (fuse_relu_) y_ = y;
  return y;
}

Tensor Conv2d::backward(const Tensor& dy) {
  if (q_.q.defined()) throw std::logic_error("Conv2d: an int8 layer is inference-only");
  if (!x_.defined()) throw std::logic_error("Conv2d::backward without forward");
  const int64_t b = x_.shape()[0], h = x_.shape()[2], w = x_.shape()[3], hw = h * w;
  const int64_t kk = cin_ * k_ * k_;
  Tensor dx = new_activation(x_.shape());
  {
    F32Read x(x_), g(dy), wt(weight_.value);
    const float* dz = g.data();
    Tensor dz_buffer;
    if (fuse_relu_) {
      dz_buffer = new_f32(dy.shape());
      F32Read y(y_);
      relu_backward(dz_buffer.data<float>(), y.data(), g.data(), dy.numel());
      dz = dz_buffer.data<float>();
    }
    F32Write dxw(dx), dw(weight_.grad), db(bias_.grad);
    Eigen::Map<MatRM> dW(dw.data(), cout_, kk);
    Eigen::Map<Eigen::RowVectorXf> dB(db.data(), cout_);
    dW.setZero();
    dB.setZero();
    Tensor patches = new_f32({hw, kk}), dpatches = new_f32({hw, kk});
    for (int64_t i = 0; i < b; ++i) {
      im2col(patches.data<float>(), x.data() + i * cin_ * hw, cin_, h, w, k_);
      Eigen::Map<const MatCM> dy_t(dz + i * cout_ * hw, hw, cout_);  // (H*W, COUT)
      dW.noalias() += dy_t.transpose() * Eigen::Map<const MatRM>(patches.data<float>(), hw, kk);
      dB.noalias() += dy_t.colwise().sum();
      Eigen::Map<MatRM>(dpatches.data<float>(), hw, kk).noalias() =
          dy_t * Eigen::Map<const MatRM>(wt.data(), cout_, kk);
      col2im(dxw.data() + i * cin_ * hw, dpatches.data<float>(), cin_, h, w, k_);
    }
    dxw.commit();
    dw.commit();
    db.commit();
  }
  release_saved();
  return dx;
}

void Conv2d::release_saved() {
  x_ = Tensor();
  y_ = Tensor();
}

void Conv2d::collect_params(std::vector<Param*>& out) {
  if (q_.q.defined()) return;
  out.push_back(&weight_);
  out.push_back(&bias_);
}

void Conv2d::quantize_int8() {
  if (q_.q.defined()) return;
  F32Read w(weight_.value);
  q_ = quantize_rows(w.data(), cout_, cin_ * k_ * k_, ctx_.alloc);
  weight_.value = Tensor();
  weight_.grad = Tensor();
  bias_.grad = Tensor();
}

size_t Conv2d::param_bytes() {
  const size_t w = q_.q.defined() ? q_.q.nbytes() + q_.scale.nbytes() : weight_.value.nbytes();
  return w + bias_.value.nbytes();
}

Tensor MaxPool2d::forward(const Tensor& x) {
  expect_shape(x.shape().rank() == 4 && x.shape()[2] % 2 == 0 && x.shape()[3] % 2 == 0, *this,
               "input (B, C, H, W) with even H and W", x.shape());
  const int64_t planes = x.shape()[0] * x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  Tensor y = new_activation({x.shape()[0], x.shape()[1], h / 2, w / 2});
  {
    F32Read in(x);
    F32Write out(y);
    for (int64_t pl = 0; pl < planes; ++pl) {
      const float* src = in.data() + pl * h * w;
      float* dst = out.data() + pl * (h / 2) * (w / 2);
      for (int64_t oy = 0; oy < h / 2; ++oy) {
        for (int64_t ox = 0; ox < w / 2; ++ox) {
          const float* win = src + 2 * oy * w + 2 * ox;
          dst[oy * (w / 2) + ox] = std::max({win[0], win[1], win[w], win[w + 1]});
        }
      }
    }
    out.commit();
  }
  x_ = x;
  return y;
}

Tensor MaxPool2d::backward(const Tensor& dy) {
  if (!x_.defined()) throw std::logic_error("MaxPool2d::backward without forward");
  const int64_t planes = x_.shape()[0] * x_.shape()[1], h = x_.shape()[2], w = x_.shape()[3];
  Tensor dx = new_activation(x_.shape());
  {
    F32Read x(x_), g(dy);
    F32Write out(dx);
    std::fill(out.data(), out.data() + dx.numel(), 0.0f);
    for (int64_t pl = 0; pl < planes; ++pl) {
      const float* src = x.data() + pl * h * w;
      const float* grad = g.data() + pl * (h / 2) * (w / 2);
      float* dst = out.data() + pl * h * w;
      for (int64_t oy = 0; oy < h / 2; ++oy) {
        for (int64_t ox = 0; ox < w / 2; ++ox) {
          const int64_t base = 2 * oy * w + 2 * ox;
          const int64_t cand[4] = {base, base + 1, base + w, base + w + 1};
          int64_t arg = cand[0];
          for (int64_t c : cand) {
            if (src[c] > src[arg]) arg = c;
          }
          dst[arg] += grad[oy * (w / 2) + ox];
        }
      }
    }
    out.commit();
  }
  release_saved();
  return dx;
}

Tensor Flatten::forward(const Tensor& x) {
  in_shape_ = x.shape();
  return x.view({x.shape()[0], x.numel() / x.shape()[0]});
}

}  // namespace engine
