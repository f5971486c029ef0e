// Optimizers on the GPU: engine/optimizer.h's SGD and AdamW, one kernel per parameter. State is
// f32 and allocated on a parameter's first update, as on the CPU, so that in a trace it appears
// inside optimizer/step of the first step.
#pragma once

#include <vector>

#include "layer.h"

namespace engine::gpu {

class Optimizer {
 public:
  Optimizer(std::vector<Param*> params, Device& device)
      : params_(std::move(params)), device_(device) {}
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  virtual ~Optimizer() = default;

  void step();
  size_t state_bytes() const;

 protected:
  struct State {
    DeviceTensor a, b;  // SGD: velocity, unused. AdamW: first and second moments.
  };
  virtual void update(Param& p, State& s, int64_t t) = 0;
  virtual int state_tensors() const = 0;
  Device& device() const { return device_; }

 private:
  std::vector<Param*> params_;
  std::vector<State> state_;
  Device& device_;
  int64_t t_ = 0;
};

// v = mu*v + g + wd*w;  w -= lr*v.
class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<Param*> params, Device& device, float lr, float momentum = 0.9f,
      float weight_decay = 0.0f)
      : Optimizer(std::move(params), device), lr_(lr), mu_(momentum), wd_(weight_decay) {}

 protected:
  void update(Param& p, State& s, int64_t t) override;
  int state_tensors() const override { return 1; }

 private:
  float lr_, mu_, wd_;
};

class AdamW final : public Optimizer {
 public:
  AdamW(std::vector<Param*> params, Device& device, float lr, float weight_decay = 0.0f,
        float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f)
      : Optimizer(std::move(params), device),
        lr_(lr),
        wd_(weight_decay),
        beta1_(beta1),
        beta2_(beta2),
        eps_(eps) {}

 protected:
  void update(Param& p, State& s, int64_t t) override;
  int state_tensors() const override { return 2; }

 private:
  float lr_, wd_, beta1_, beta2_, eps_;
};

}  // namespace engine::gpu
