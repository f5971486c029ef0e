// cuBLAS is column-major; the engine is row-major. A row-major (R, C) matrix read column-major
// is its transpose, (C, R) with leading dimension C. So each product is written for the
// transposes, which reverses its operands:
//   y = x·Wᵀ     ⇔  yᵀ (OUT, N) = W_cm(IN, OUT)ᵀ · xᵀ (IN, N)    gemm(T, N, OUT, N, IN)
//   dx = dy·W    ⇔  dxᵀ (IN, N) = W_cm(IN, OUT) · dyᵀ (OUT, N)    gemm(N, N, IN, N, OUT)
//   dW = dyᵀ·x   ⇔  dWᵀ (IN, OUT) = xᵀ (IN, N) · dy (N, OUT)      gemm(N, T, IN, OUT, N)
#include "linear.h"

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "cuda_check.h"
#include "kernels.h"

namespace engine::gpu {

namespace {

int to_int(int64_t v) {
  if (v > INT32_MAX) throw std::length_error("Linear: dimension beyond cuBLAS's 32-bit sizes");
  return static_cast<int>(v);
}

Param upload_param(Device& device, const engine::Param& host) {
  if (host.value.dtype() != DType::F32) {
    throw std::invalid_argument("gpu::Linear: the CUDA engine trains f32 parameters only");
  }
  return Param{host.name, DeviceTensor::from_host(host.value, device),
               DeviceTensor::zeros(host.value.shape(), DType::F32, device), host.weight_decay};
}

}  // namespace

void matmul_forward(Device& device, float* y, const float* x, const float* w, int64_t n, int64_t in,
                    int64_t out) {
  const float one = 1.0f, zero = 0.0f;
  CUBLAS_CHECK(cublasSgemm(device.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, to_int(out), to_int(n),
                           to_int(in), &one, w, to_int(in), x, to_int(in), &zero, y, to_int(out)));
}

void matmul_backward(Device& device, float* dx, float* dw, const float* dy, const float* x,
                     const float* w, int64_t n, int64_t in, int64_t out) {
  const float one = 1.0f, zero = 0.0f;
  if (dx != nullptr) {
    CUBLAS_CHECK(cublasSgemm(device.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, to_int(in), to_int(n),
                             to_int(out), &one, w, to_int(in), dy, to_int(out), &zero, dx,
                             to_int(in)));
  }
  CUBLAS_CHECK(cublasSgemm(device.cublas(), CUBLAS_OP_N, CUBLAS_OP_T, to_int(in), to_int(out),
                           to_int(n), &one, x, to_int(in), dy, to_int(out), &zero, dw, to_int(in)));
}

Linear::Linear(Device& device, engine::Linear& host, Activation act) : Layer(device), act_(act) {
  if (host.sparse() || host.quantized()) {
    throw std::invalid_argument("gpu::Linear: the CUDA engine has dense f32 weights only");
  }
  if (act != Activation::None && act != Activation::ReLU) {
    throw std::invalid_argument("gpu::Linear: only ReLU can be fused on the GPU");
  }
  std::vector<engine::Param*> params;
  host.collect_params(params);
  weight_ = upload_param(device, *params.at(0));
  bias_ = upload_param(device, *params.at(1));
  out_ = weight_.value.shape()[0];
  in_ = weight_.value.shape()[1];
}

std::string Linear::describe() const {
  std::string s = "Linear(" + std::to_string(in_) + " -> " + std::to_string(out_);
  if (act_ != Activation::None) s += std::string(", fused ") + activation_name(act_);
  return s + ", cuda)";
}

DeviceTensor Linear::forward(const DeviceTensor& x) {
  if (x.shape().last() != in_) {
    throw std::invalid_argument(describe() + ": expected input (N, IN), got " + x.shape().str());
  }
  const int64_t n = x.shape().rows();
  DeviceTensor y = new_f32(x.shape().with_last(out_));
  matmul_forward(device_, y.f32(), x.f32(), weight_.value.f32(), n, in_, out_);
  kernels::bias_forward(y.f32(), bias_.value.f32(), n, out_, device_.stream());
  if (act_ == Activation::ReLU) kernels::relu_forward(y.f32(), y.f32(), n * out_, device_.stream());
  x_ = x;
  if (act_ == Activation::ReLU) y_ = y;
  return y;
}

DeviceTensor Linear::backward(const DeviceTensor& dy) {
  if (!x_.defined()) throw std::logic_error("gpu::Linear::backward without forward");
  const int64_t n = x_.shape().rows();
  // dz: the gradient before the activation; without one it is dy itself.
  DeviceTensor dz = dy;
  if (act_ == Activation::ReLU) {
    dz = new_f32({n, out_});
    kernels::relu_backward(dz.f32(), y_.f32(), dy.f32(), n * out_, device_.stream());
  }
  DeviceTensor dx = new_f32(x_.shape());
  matmul_backward(device_, dx.f32(), weight_.grad.f32(), dz.f32(), x_.f32(), weight_.value.f32(), n,
                  in_, out_);
  kernels::bias_backward(bias_.grad.f32(), dz.f32(), n, out_, device_.stream());
  release_saved();
  return dx;
}

void Linear::release_saved() {
  x_ = DeviceTensor();
  y_ = DeviceTensor();
}

void Linear::collect_params(std::vector<Param*>& out) {
  out.push_back(&weight_);
  out.push_back(&bias_);
}

}  // namespace engine::gpu
