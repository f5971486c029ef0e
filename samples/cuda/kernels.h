// The CUDA engine's own kernels, callable from plain C++. Each mirrors the CPU function of the
// same name (engine/activations.h, engine/matmul.h, engine/loss.h, engine/optimizer.h) and
// computes in f32 the same way, so that the two engines agree to rounding. All are queued on
// `stream`; none synchronises. Shapes row-major, letters as in engine/tensor.h.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace engine::gpu::kernels {

// y (N, OUT) += b (OUT) on every row.
void bias_forward(float* y, const float* b, int64_t n, int64_t out, cudaStream_t stream);
// db (OUT) = column sums of dy (N, OUT).
void bias_backward(float* db, const float* dy, int64_t n, int64_t out, cudaStream_t stream);

// y may be x (in place).
void relu_forward(float* y, const float* x, int64_t n, cudaStream_t stream);
// dx = dy where x > 0; x may be the ReLU's output (see engine/activations.h).
void relu_backward(float* dx, const float* x, const float* dy, int64_t n, cudaStream_t stream);
// GELU, tanh approximation.
void gelu_forward(float* y, const float* x, int64_t n, cudaStream_t stream);
void gelu_backward(float* dx, const float* x, const float* dy, int64_t n, cudaStream_t stream);

// Fused softmax + cross-entropy, one thread per row of logits (N, V): row_loss (N) gets
// -log softmax(row)[target] (NaN for a target outside [0, V)); dlogits (N, V), unless null,
// gets (softmax - onehot) / N.
void cross_entropy(float* row_loss, float* dlogits, const float* logits, const int32_t* targets,
                   int64_t n, int64_t v, cudaStream_t stream);

// SGD with momentum: v = mu*v + g + wd*w;  w -= lr*v.
void sgd_update(float* w, float* velocity, const float* g, int64_t n, float lr, float mu, float wd,
                cudaStream_t stream);
// AdamW; c1, c2: the bias corrections 1 - beta^t of this step.
void adamw_update(float* w, float* m, float* v, const float* g, int64_t n, float lr, float beta1,
                  float beta2, float c1, float c2, float eps, float wd, cudaStream_t stream);

}  // namespace engine::gpu::kernels
