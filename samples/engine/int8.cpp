#include "int8.h"

#include <algorithm>
#include <cmath>

namespace engine {

namespace {

// Quantizes one row of `cols` values; returns its scale (0 for an all-zero row).
float quantize_row(const float* v, int64_t cols, int8_t* q) {
  float max_abs = 0.0f;
  for (int64_t c = 0; c < cols; ++c) max_abs = std::max(max_abs, std::fabs(v[c]));
  const float scale = max_abs / 127.0f;
  const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (int64_t c = 0; c < cols; ++c) {
    q[c] = static_cast<int8_t>(std::clamp(std::lround(v[c] * inv), -127l, 127l));
  }
  return scale;
}

// x (N, IN) quantized per row into scratch tensors.
Int8Rows quantize_activations(const float* x, int64_t n, int64_t in, Allocator& scratch) {
  Int8Rows a{Tensor::empty({n, in}, DType::I8, scratch), Tensor::empty({n}, DType::F32, scratch)};
  for (int64_t i = 0; i < n; ++i) {
    a.scale.data<float>()[i] = quantize_row(x + i * in, in, a.q.data<int8_t>() + i * in);
  }
  return a;
}

}  // namespace

Int8Rows quantize_rows(const float* w, int64_t rows, int64_t cols, Allocator& alloc) {
  Int8Rows r{Tensor::empty({rows, cols}, DType::I8, alloc),
             Tensor::empty({rows}, DType::F32, alloc)};
  for (int64_t i = 0; i < rows; ++i) {
    r.scale.data<float>()[i] = quantize_row(w + i * cols, cols, r.q.data<int8_t>() + i * cols);
  }
  return r;
}

Int8Rows quantize_csr_rows(const float* values, const CsrPattern& p, Allocator& alloc) {
  Int8Rows r{Tensor::empty({p.nnz}, DType::I8, alloc), Tensor::empty({p.rows}, DType::F32, alloc)};
  const int32_t* row_ptr = p.row_ptr.data<int32_t>();
  for (int64_t i = 0; i < p.rows; ++i) {
    r.scale.data<float>()[i] = quantize_row(values + row_ptr[i], row_ptr[i + 1] - row_ptr[i],
                                            r.q.data<int8_t>() + row_ptr[i]);
  }
  return r;
}

void int8_matmul_forward(float* y, const float* x, const Int8Rows& w, int64_t n, int64_t in,
                         int64_t out, Allocator& scratch) {
  const Int8Rows a = quantize_activations(x, n, in, scratch);
  const int8_t* aq = a.q.data<int8_t>();
  const int8_t* wq = w.q.data<int8_t>();
  for (int64_t i = 0; i < n; ++i) {
    const float sa = a.scale.data<float>()[i];
    for (int64_t o = 0; o < out; ++o) {
      int32_t acc = 0;  // |acc| <= IN * 127 * 127: exact in int32 for IN < 133000
      for (int64_t k = 0; k < in; ++k) {
        acc += static_cast<int32_t>(aq[i * in + k]) * static_cast<int32_t>(wq[o * in + k]);
      }
      y[i * out + o] = static_cast<float>(acc) * sa * w.scale.data<float>()[o];
    }
  }
}

void int8_csr_matmul_forward(float* y, const float* x, const Int8Rows& w, const CsrPattern& p,
                             int64_t n, Allocator& scratch) {
  const Int8Rows a = quantize_activations(x, n, p.cols, scratch);
  const int8_t* aq = a.q.data<int8_t>();
  const int8_t* wq = w.q.data<int8_t>();
  const int32_t* row_ptr = p.row_ptr.data<int32_t>();
  const int32_t* col_idx = p.col_idx.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    const float sa = a.scale.data<float>()[i];
    for (int64_t r = 0; r < p.rows; ++r) {
      int32_t acc = 0;
      for (int32_t k = row_ptr[r]; k < row_ptr[r + 1]; ++k) {
        acc += static_cast<int32_t>(aq[i * p.cols + col_idx[k]]) * static_cast<int32_t>(wq[k]);
      }
      y[i * p.rows + r] = static_cast<float>(acc) * sa * w.scale.data<float>()[r];
    }
  }
}

}  // namespace engine
