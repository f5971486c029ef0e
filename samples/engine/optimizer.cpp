#include "optimizer.h"

#include <cmath>

namespace engine {

void Optimizer::step() {
  ++t_;
  if (state_.size() != params_.size()) state_.resize(params_.size());  // once: slots only
  for (size_t i = 0; i < params_.size(); ++i) {
    Param& p = *params_[i];
    State& s = state_[i];
    if (!s.a.defined()) {
      s.a = Tensor::zeros(p.value.shape(), DType::F32, alloc_);
      if (state_tensors() > 1) s.b = Tensor::zeros(p.value.shape(), DType::F32, alloc_);
    }
    F32Read g(p.grad);
    F32Write w(p.value, /*load=*/true);
    update(w.data(), g.data(), s, p.value.numel(), p.weight_decay, t_);
    if (p.value.dtype() == DType::BF16) {
      auto* bits = p.value.data<uint16_t>();
      for (int64_t j = 0; j < p.value.numel(); ++j) {
        bits[j] = bf16_bits_stochastic(w.data()[j], rng_.next_u32() >> 16);
      }
    } else {
      w.commit();
    }
  }
}

size_t Optimizer::state_bytes() const {
  size_t bytes = 0;
  for (const State& s : state_) bytes += s.a.nbytes() + s.b.nbytes();
  return bytes;
}

void Sgd::update(float* w, const float* g, State& s, int64_t n, bool decay, int64_t) {
  float* v = s.a.data<float>();
  const float wd = decay ? wd_ : 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    v[i] = mu_ * v[i] + g[i] + wd * w[i];
    w[i] -= lr_ * v[i];
  }
}

void AdamW::update(float* w, const float* g, State& s, int64_t n, bool decay, int64_t t) {
  float* m = s.a.data<float>();
  float* v = s.b.data<float>();
  const float c1 = 1.0f - std::pow(beta1_, static_cast<float>(t));
  const float c2 = 1.0f - std::pow(beta2_, static_cast<float>(t));
  const float wd = decay ? wd_ : 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    m[i] = beta1_ * m[i] + (1.0f - beta1_) * g[i];
    v[i] = beta2_ * v[i] + (1.0f - beta2_) * g[i] * g[i];
    const float m_hat = m[i] / c1, v_hat = v[i] / c2;
    w[i] -= lr_ * (m_hat / (std::sqrt(v_hat) + eps_) + wd * w[i]);
  }
}

}  // namespace engine
