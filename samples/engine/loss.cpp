#include "loss.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace engine {

namespace {
void check(const Tensor& logits, const Tensor& targets) {
  if (targets.dtype() != DType::I32 || targets.numel() != logits.shape().rows()) {
    throw std::invalid_argument("cross_entropy: targets must be i32 with one entry per row, got " +
                                targets.shape().str() + " for logits " + logits.shape().str());
  }
}
}  // namespace

float cross_entropy(const Tensor& logits, const Tensor& targets, Tensor* dlogits) {
  check(logits, targets);
  const int64_t n = logits.shape().rows(), v = logits.shape().last();
  F32Read in(logits);
  Tensor grad;
  float* d = nullptr;
  if (dlogits) {
    grad = Tensor::empty(logits.shape(), DType::F32, logits.allocator());
    d = grad.data<float>();
  }
  const int32_t* target = targets.data<int32_t>();
  double total = 0.0;  // a sum over many rows: double keeps it independent of N's size
  for (int64_t i = 0; i < n; ++i) {
    const float* row = in.data() + i * v;
    if (target[i] < 0 || target[i] >= v) throw std::out_of_range("cross_entropy: bad target");
    float max_logit = row[0];
    for (int64_t j = 1; j < v; ++j) max_logit = std::max(max_logit, row[j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < v; ++j) sum += std::exp(row[j] - max_logit);
    const float log_sum = std::log(sum) + max_logit;
    total += static_cast<double>(log_sum - row[target[i]]);
    if (d) {
      float* di = d + i * v;
      for (int64_t j = 0; j < v; ++j) {
        const float p = std::exp(row[j] - log_sum);
        di[j] = (p - (j == target[i] ? 1.0f : 0.0f)) / static_cast<float>(n);
      }
    }
  }
  if (dlogits) *dlogits = logits.dtype() == DType::F32 ? grad : convert(grad, logits.dtype());
  return static_cast<float>(total / static_cast<double>(n));
}

int64_t count_correct(const Tensor& logits, const Tensor& targets) {
  check(logits, targets);
  const int64_t n = logits.shape().rows(), v = logits.shape().last();
  F32Read in(logits);
  const int32_t* target = targets.data<int32_t>();
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = in.data() + i * v;
    int64_t best = 0;
    for (int64_t j = 1; j < v; ++j) {
      if (row[j] > row[best]) best = j;
    }
    correct += best == target[i] ? 1 : 0;
  }
  return correct;
}

}  // namespace engine
