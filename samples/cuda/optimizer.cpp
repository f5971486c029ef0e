#include "optimizer.h"

#include <cmath>

#include "kernels.h"

namespace engine::gpu {

void Optimizer::step() {
  ++t_;
  if (state_.size() != params_.size()) state_.resize(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    Param& p = *params_[i];
    State& s = state_[i];
    if (!s.a.defined()) {
      s.a = DeviceTensor::zeros(p.value.shape(), DType::F32, device_);
      if (state_tensors() > 1) s.b = DeviceTensor::zeros(p.value.shape(), DType::F32, device_);
    }
    update(p, s, t_);
  }
}

size_t Optimizer::state_bytes() const {
  size_t bytes = 0;
  for (const State& s : state_) {
    if (s.a.defined()) bytes += s.a.nbytes();
    if (s.b.defined()) bytes += s.b.nbytes();
  }
  return bytes;
}

void Sgd::update(Param& p, State& s, int64_t) {
  kernels::sgd_update(p.value.f32(), s.a.f32(), p.grad.f32(), p.value.numel(), lr_, mu_,
                      p.weight_decay ? wd_ : 0.0f, device().stream());
}

void AdamW::update(Param& p, State& s, int64_t t) {
  // The bias corrections, computed on the host as the CPU engine computes them.
  const float c1 = 1.0f - std::pow(beta1_, static_cast<float>(t));
  const float c2 = 1.0f - std::pow(beta2_, static_cast<float>(t));
  kernels::adamw_update(p.value.f32(), s.a.f32(), s.b.f32(), p.grad.f32(), p.value.numel(), lr_,
                        beta1_, beta2_, c1, c2, eps_, p.weight_decay ? wd_ : 0.0f,
                        device().stream());
}

}  // namespace engine::gpu
