#include "loss.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "device.h"
#include "kernels.h"

namespace engine::gpu {

float cross_entropy(const DeviceTensor& logits, const DeviceTensor& targets,
                    DeviceTensor* dlogits) {
  const int64_t n = logits.shape().rows(), v = logits.shape().last();
  if (targets.dtype() != DType::I32 || targets.numel() != n) {
    throw std::invalid_argument(
        "gpu::cross_entropy: targets must be i32 with one entry per row, "
        "got " +
        targets.shape().str() + " for logits " + logits.shape().str());
  }
  Device& device = logits.device();
  DeviceTensor row_loss = DeviceTensor::empty({n}, DType::F32, device);
  DeviceTensor grad;
  if (dlogits) grad = DeviceTensor::empty(logits.shape(), DType::F32, device);
  kernels::cross_entropy(row_loss.f32(), dlogits ? grad.f32() : nullptr, logits.f32(),
                         targets.i32(), n, v, device.stream());
  std::vector<float> host(static_cast<size_t>(n));
  device.to_host(host.data(), row_loss.f32(), row_loss.nbytes());
  double total = 0.0;
  for (float l : host) total += static_cast<double>(l);
  if (!std::isfinite(total)) {
    throw std::runtime_error(
        "gpu::cross_entropy: non-finite loss (a target outside [0, V), "
        "or diverged logits)");
  }
  if (dlogits) *dlogits = grad;
  return static_cast<float>(total / static_cast<double>(n));
}

}  // namespace engine::gpu
