// Softmax + cross-entropy on the GPU, fused as in engine/loss.h: logits (N, V) f32, targets (N)
// i32. The per-row losses are summed on the host in double, as the CPU engine sums them.
#pragma once

#include "device_tensor.h"

namespace engine::gpu {

// Returns the mean loss (waits for the device); when dlogits is not null it receives
// (softmax - onehot) / N, (N, V) f32. Throws std::runtime_error on a non-finite loss (a target
// outside [0, V), or logits that diverged).
float cross_entropy(const DeviceTensor& logits, const DeviceTensor& targets, DeviceTensor* dlogits);

}  // namespace engine::gpu
