// Element-wise kernels: one thread per element (or per row / column where a loop runs along it),
// 256 threads a block. Written to be read, like the CPU kernels they mirror; the samples are
// small enough that none of them is worth tiling.
#include "cuda_check.h"
#include "kernels.h"

namespace engine::gpu::kernels {

namespace {

constexpr int kThreads = 256;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

__device__ int64_t global_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__global__ void bias_forward_kernel(float* y, const float* b, int64_t n, int64_t out) {
  const int64_t i = global_index();
  if (i < n * out) y[i] += b[i % out];
}

// One thread per column: neighbouring threads read neighbouring addresses of each row.
__global__ void bias_backward_kernel(float* db, const float* dy, int64_t n, int64_t out) {
  const int64_t j = global_index();
  if (j >= out) return;
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += dy[i * out + j];
  db[j] = sum;
}

__global__ void relu_forward_kernel(float* y, const float* x, int64_t n) {
  const int64_t i = global_index();
  if (i < n) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

__global__ void relu_backward_kernel(float* dx, const float* x, const float* dy, int64_t n) {
  const int64_t i = global_index();
  if (i < n) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

__global__ void gelu_forward_kernel(float* y, const float* x, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  const float v = x[i];
  y[i] = 0.5f * v * (1.0f + tanhf(kSqrt2OverPi * (v + kGeluCubic * v * v * v)));
}

__global__ void gelu_backward_kernel(float* dx, const float* x, const float* dy, int64_t n) {
  const int64_t i = global_index();
  if (i >= n) return;
  const float v = x[i];
  const float t = tanhf(kSqrt2OverPi * (v + kGeluCubic * v * v * v));
  const float sech2 = 1.0f - t * t;
  const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * v * v);
  dx[i] = (0.5f * (1.0f + t) + 0.5f * v * sech2 * du) * dy[i];
}

__global__ void cross_entropy_kernel(float* row_loss, float* dlogits, const float* logits,
                                     const int32_t* targets, int64_t n, int64_t v) {
  const int64_t i = global_index();
  if (i >= n) return;
  const float* row = logits + i * v;
  const int32_t target = targets[i];
  float max_logit = row[0];
  for (int64_t j = 1; j < v; ++j) max_logit = fmaxf(max_logit, row[j]);
  float sum = 0.0f;
  for (int64_t j = 0; j < v; ++j) sum += expf(row[j] - max_logit);
  const float log_sum = logf(sum) + max_logit;
  const bool valid = target >= 0 && target < v;
  row_loss[i] = valid ? log_sum - row[target] : nanf("");
  if (dlogits == nullptr) return;
  float* d = dlogits + i * v;
  for (int64_t j = 0; j < v; ++j) {
    const float p = expf(row[j] - log_sum);
    d[j] = valid ? (p - (j == target ? 1.0f : 0.0f)) / static_cast<float>(n) : 0.0f;
  }
}

__global__ void sgd_kernel(float* w, float* velocity, const float* g, int64_t n, float lr, float mu,
                           float wd) {
  const int64_t i = global_index();
  if (i >= n) return;
  velocity[i] = mu * velocity[i] + g[i] + wd * w[i];
  w[i] -= lr * velocity[i];
}

__global__ void adamw_kernel(float* w, float* m, float* v, const float* g, int64_t n, float lr,
                             float beta1, float beta2, float c1, float c2, float eps, float wd) {
  const int64_t i = global_index();
  if (i >= n) return;
  m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
  v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
  const float m_hat = m[i] / c1, v_hat = v[i] / c2;
  w[i] -= lr * (m_hat / (sqrtf(v_hat) + eps) + wd * w[i]);
}

}  // namespace

void bias_forward(float* y, const float* b, int64_t n, int64_t out, cudaStream_t stream) {
  if (n * out == 0) return;
  bias_forward_kernel<<<blocks_for(n * out), kThreads, 0, stream>>>(y, b, n, out);
  CUDA_CHECK_LAUNCH();
}

void bias_backward(float* db, const float* dy, int64_t n, int64_t out, cudaStream_t stream) {
  if (out == 0) return;
  bias_backward_kernel<<<blocks_for(out), kThreads, 0, stream>>>(db, dy, n, out);
  CUDA_CHECK_LAUNCH();
}

void relu_forward(float* y, const float* x, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  relu_forward_kernel<<<blocks_for(n), kThreads, 0, stream>>>(y, x, n);
  CUDA_CHECK_LAUNCH();
}

void relu_backward(float* dx, const float* x, const float* dy, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  relu_backward_kernel<<<blocks_for(n), kThreads, 0, stream>>>(dx, x, dy, n);
  CUDA_CHECK_LAUNCH();
}

void gelu_forward(float* y, const float* x, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  gelu_forward_kernel<<<blocks_for(n), kThreads, 0, stream>>>(y, x, n);
  CUDA_CHECK_LAUNCH();
}

void gelu_backward(float* dx, const float* x, const float* dy, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  gelu_backward_kernel<<<blocks_for(n), kThreads, 0, stream>>>(dx, x, dy, n);
  CUDA_CHECK_LAUNCH();
}

void cross_entropy(float* row_loss, float* dlogits, const float* logits, const int32_t* targets,
                   int64_t n, int64_t v, cudaStream_t stream) {
  if (n == 0) return;
  cross_entropy_kernel<<<blocks_for(n), kThreads, 0, stream>>>(row_loss, dlogits, logits, targets,
                                                               n, v);
  CUDA_CHECK_LAUNCH();
}

void sgd_update(float* w, float* velocity, const float* g, int64_t n, float lr, float mu, float wd,
                cudaStream_t stream) {
  if (n == 0) return;
  sgd_kernel<<<blocks_for(n), kThreads, 0, stream>>>(w, velocity, g, n, lr, mu, wd);
  CUDA_CHECK_LAUNCH();
}

void adamw_update(float* w, float* m, float* v, const float* g, int64_t n, float lr, float beta1,
                  float beta2, float c1, float c2, float eps, float wd, cudaStream_t stream) {
  if (n == 0) return;
  adamw_kernel<<<blocks_for(n), kThreads, 0, stream>>>(w, m, v, g, n, lr, beta1, beta2, c1, c2, eps,
                                                       wd);
  CUDA_CHECK_LAUNCH();
}

}  // namespace engine::gpu::kernels
