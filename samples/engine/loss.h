// Softmax + cross-entropy, fused as in llm.c: one pass over the logits yields both the loss and
// its gradient, so the probabilities never exist as a tensor of their own.
//   logits (N, V) float, targets (N) i32, loss = mean over rows of -log softmax(logits)[target].
#pragma once

#include "tensor.h"

namespace engine {

// Returns the loss; when dlogits is not null it receives (softmax - onehot) / N, same shape and
// dtype as the logits, from the logits' allocator.
float cross_entropy(const Tensor& logits, const Tensor& targets, Tensor* dlogits);

// Rows whose largest logit is the target (the first one on ties).
int64_t count_correct(const Tensor& logits, const Tensor& targets);

}  // namespace engine
