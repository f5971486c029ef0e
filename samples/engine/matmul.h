// Dense matrix products behind Linear, on Eigen. Row-major throughout:
//   x (N, IN), w (OUT, IN), y (N, OUT).
#pragma once

#include <cstdint>

namespace engine {

// y = x · wᵀ
void matmul_forward(float* y, const float* x, const float* w, int64_t n, int64_t in, int64_t out);
// dx = dy · w (skipped when dx is null), dw = dyᵀ · x
void matmul_backward(float* dx, float* dw, const float* dy, const float* x, const float* w,
                     int64_t n, int64_t in, int64_t out);
// y[i, :] += b
void bias_forward(float* y, const float* b, int64_t n, int64_t out);
// db = column sums of dy
void bias_backward(float* db, const float* dy, int64_t n, int64_t out);

}  // namespace engine
