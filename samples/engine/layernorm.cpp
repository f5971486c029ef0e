#include "layernorm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace engine {

LayerNorm::LayerNorm(Context& ctx, int64_t c) : Layer(ctx), c_(c) {
  gain_ = make_param(
      ctx, "gain", {c}, [](float* g, int64_t n) { std::fill(g, g + n, 1.0f); }, false);
  bias_ = make_param(
      ctx, "bias", {c}, [](float* b, int64_t n) { std::fill(b, b + n, 0.0f); }, false);
}

Tensor LayerNorm::forward(const Tensor& x) {
  expect_shape(x.shape().last() == c_, *this, "input (N, C)", x.shape());
  const int64_t n = x.shape().rows();
  Tensor y = new_activation(x.shape());
  Tensor mean = new_f32({n}), rstd = new_f32({n});
  {
    F32Read in(x), g(gain_.value), b(bias_.value);
    F32Write out(y);
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = in.data() + i * c_;
      float m = 0.0f;
      for (int64_t j = 0; j < c_; ++j) m += xi[j];
      m /= static_cast<float>(c_);
      float v = 0.0f;
      for (int64_t j = 0; j < c_; ++j) v += (xi[j] - m) * (xi[j] - m);
      v /= static_cast<float>(c_);
      const float r = 1.0f / std::sqrt(v + 1e-5f);
      float* yi = out.data() + i * c_;
      for (int64_t j = 0; j < c_; ++j) yi[j] = (xi[j] - m) * r * g.data()[j] + b.data()[j];
      mean.data<float>()[i] = m;
      rstd.data<float>()[i] = r;
    }
    out.commit();
  }
  x_ = x;
  mean_ = mean;
  rstd_ = rstd;
  return y;
}

Tensor LayerNorm::backward(const Tensor& dy) {
  if (!x_.defined()) throw std::logic_error("LayerNorm::backward without forward");
  const int64_t n = x_.shape().rows();
  Tensor dx = new_activation(x_.shape());
  {
    F32Read x(x_), g(dy), gain(gain_.value);
    F32Write dxw(dx), dg(gain_.grad), db(bias_.grad);
    std::fill(dg.data(), dg.data() + c_, 0.0f);
    std::fill(db.data(), db.data() + c_, 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x.data() + i * c_;
      const float* gi = g.data() + i * c_;
      const float m = mean_.data<float>()[i], r = rstd_.data<float>()[i];
      // Two reductions first: the gradient flows back through the mean and the variance too.
      float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
      for (int64_t j = 0; j < c_; ++j) {
        const float dnorm = gain.data()[j] * gi[j];
        dnorm_mean += dnorm;
        dnorm_norm_mean += dnorm * (xi[j] - m) * r;
      }
      dnorm_mean /= static_cast<float>(c_);
      dnorm_norm_mean /= static_cast<float>(c_);
      float* dxi = dxw.data() + i * c_;
      for (int64_t j = 0; j < c_; ++j) {
        const float norm = (xi[j] - m) * r;
        const float dnorm = gain.data()[j] * gi[j];
        db.data()[j] += gi[j];
        dg.data()[j] += norm * gi[j];
        dxi[j] = (dnorm - dnorm_mean - norm * dnorm_norm_mean) * r;
      }
    }
    dxw.commit();
    dg.commit();
    db.commit();
  }
  release_saved();
  return dx;
}

void LayerNorm::release_saved() {
  x_ = Tensor();
  mean_ = Tensor();
  rstd_ = Tensor();
}

void LayerNorm::collect_params(std::vector<Param*>& out) {
  out.push_back(&gain_);
  out.push_back(&bias_);
}

}  // namespace engine
