// Optimizers: update parameters in place from their gradients.
//
// State (SGD's velocity, AdamW's two moments) is f32 whatever the parameter dtype, and is
// allocated on a parameter's first update ("lazily"): a model that is only evaluated never pays
// for it, and in a trace it appears inside optimizer/step of the first step.
// bf16 parameters are written back with stochastic rounding (dtype.h), f16 ones rounded to
// nearest: f16 keeps 3 more mantissa bits, enough for the sample learning rates.
#pragma once

#include <vector>

#include "layer.h"
#include "rng.h"

namespace engine {

class Optimizer {
 public:
  Optimizer(std::vector<Param*> params, Allocator& alloc, uint64_t seed)
      : params_(std::move(params)), alloc_(alloc), rng_(seed) {}
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  virtual ~Optimizer() = default;

  void step();
  // Bytes of optimizer state allocated so far.
  size_t state_bytes() const;

 protected:
  struct State {
    Tensor a, b;  // SGD: velocity, unused. AdamW: first and second moments.
  };
  // w, g: f32 views of one parameter and its gradient; n elements; t: 1-based step count.
  virtual void update(float* w, const float* g, State& s, int64_t n, bool decay, int64_t t) = 0;
  virtual int state_tensors() const = 0;

 private:
  std::vector<Param*> params_;
  std::vector<State> state_;
  Allocator& alloc_;
  Rng rng_;  // stochastic rounding
  int64_t t_ = 0;
};

// SGD with momentum: v = mu*v + g + wd*w;  w -= lr*v.
class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<Param*> params, Allocator& alloc, float lr, float momentum = 0.9f,
      float weight_decay = 0.0f, uint64_t seed = 1)
      : Optimizer(std::move(params), alloc, seed), lr_(lr), mu_(momentum), wd_(weight_decay) {}

 protected:
  void update(float* w, const float* g, State& s, int64_t n, bool decay, int64_t t) override;
  int state_tensors() const override { return 1; }

 private:
  float lr_, mu_, wd_;
};

// AdamW (Loshchilov & Hutter): Adam with bias correction and decoupled weight decay.
class AdamW final : public Optimizer {
 public:
  AdamW(std::vector<Param*> params, Allocator& alloc, float lr, float weight_decay = 0.0f,
        float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, uint64_t seed = 1)
      : Optimizer(std::move(params), alloc, seed),
        lr_(lr),
        wd_(weight_decay),
        beta1_(beta1),
        beta2_(beta2),
        eps_(eps) {}

 protected:
  void update(float* w, const float* g, State& s, int64_t n, bool decay, int64_t t) override;
  int state_tensors() const override { return 2; }

 private:
  float lr_, wd_, beta1_, beta2_, eps_;
};

}  // namespace engine
