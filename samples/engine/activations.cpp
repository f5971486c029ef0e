#include "activations.h"

#include <cmath>

namespace engine {

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::None:
      return "none";
    case Activation::ReLU:
      return "relu";
    case Activation::GELU:
      return "gelu";
  }
  return "?";
}

void relu_forward(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward(float* dx, const float* x, const float* dy, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;
}  // namespace

void gelu_forward(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + kGeluCubic * v * v * v)));
  }
}

void gelu_backward(float* dx, const float* x, const float* dy, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float u = kSqrt2OverPi * (v + kGeluCubic * v * v * v);
    const float t = std::tanh(u);
    const float sech2 = 1.0f - t * t;
    const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * v * v);
    dx[i] = (0.5f * (1.0f + t) + 0.5f * v * sech2 * du) * dy[i];
  }
}

Tensor ReLU::forward(const Tensor& x) {
  Tensor y = new_activation(x.shape());
  F32Read in(x);
  F32Write out(y);
  relu_forward(out.data(), in.data(), x.numel());
  out.commit();
  x_ = x;
  return y;
}

Tensor ReLU::backward(const Tensor& dy) {
  Tensor dx = new_activation(x_.shape());
  {
    F32Read x(x_), g(dy);
    F32Write out(dx);
    relu_backward(out.data(), x.data(), g.data(), dx.numel());
    out.commit();
  }
  release_saved();
  return dx;
}

Tensor GELU::forward(const Tensor& x) {
  Tensor y = new_activation(x.shape());
  F32Read in(x);
  F32Write out(y);
  gelu_forward(out.data(), in.data(), x.numel());
  out.commit();
  x_ = x;
  return y;
}

Tensor GELU::backward(const Tensor& dy) {
  Tensor dx = new_activation(x_.shape());
  {
    F32Read x(x_), g(dy);
    F32Write out(dx);
    gelu_backward(out.data(), x.data(), g.data(), dx.numel());
    out.commit();
  }
  release_saved();
  return dx;
}

}  // namespace engine
