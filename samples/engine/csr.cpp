#include "csr.h"

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace engine {

namespace {
using SparseRM = Eigen::SparseMatrix<float, Eigen::RowMajor, int32_t>;
using ColMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

Eigen::Map<const SparseRM> sparse_map(const CsrPattern& p, const float* values) {
  return Eigen::Map<const SparseRM>(p.rows, p.cols, p.nnz, p.row_ptr.data<int32_t>(),
                                    p.col_idx.data<int32_t>(), values);
}
}  // namespace

CsrPattern csr_prune(const float* w, int64_t rows, int64_t cols, float density, Allocator& alloc,
                     Tensor* values) {
  if (!(density > 0.0f && density <= 1.0f)) {
    throw std::invalid_argument("csr_prune: density must be in (0, 1]");
  }
  const int64_t keep = std::clamp<int64_t>(
      std::llround(static_cast<double>(density) * static_cast<double>(cols)), 1, cols);
  CsrPattern p;
  p.rows = rows;
  p.cols = cols;
  p.nnz = rows * keep;
  p.row_ptr = Tensor::empty({rows + 1}, DType::I32, alloc);
  p.col_idx = Tensor::empty({p.nnz}, DType::I32, alloc);
  *values = Tensor::empty({p.nnz}, DType::F32, alloc);
  int32_t* row_ptr = p.row_ptr.data<int32_t>();
  int32_t* col_idx = p.col_idx.data<int32_t>();
  float* v = values->data<float>();

  std::vector<int32_t> order(static_cast<size_t>(cols));  // pruning happens once, at build time
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    std::iota(order.begin(), order.end(), 0);
    // Ties broken by column so that the pattern does not depend on the sort's internals.
    std::nth_element(order.begin(), order.begin() + keep - 1, order.end(),
                     [&](int32_t a, int32_t b) {
                       const float fa = std::fabs(row[a]), fb = std::fabs(row[b]);
                       return fa != fb ? fa > fb : a < b;
                     });
    std::sort(order.begin(), order.begin() + keep);
    row_ptr[r] = static_cast<int32_t>(r * keep);
    for (int64_t k = 0; k < keep; ++k) {
      col_idx[r * keep + k] = order[static_cast<size_t>(k)];
      v[r * keep + k] = row[order[static_cast<size_t>(k)]];
    }
  }
  row_ptr[rows] = static_cast<int32_t>(p.nnz);
  return p;
}

// A row-major (N, K) buffer is the same memory as a column-major (K, N) matrix, so the products
// are written transposed: yᵀ = W · xᵀ needs no copies.
void csr_matmul_forward(float* y, const float* x, const CsrPattern& p, const float* values,
                        int64_t n) {
  Eigen::Map<ColMajor>(y, p.rows, n).noalias() =
      sparse_map(p, values) * Eigen::Map<const ColMajor>(x, p.cols, n);
}

void csr_matmul_backward(float* dx, float* dvalues, const float* dy, const float* x,
                         const CsrPattern& p, const float* values, int64_t n) {
  if (dx != nullptr) {
    Eigen::Map<ColMajor>(dx, p.cols, n).noalias() =
        sparse_map(p, values).transpose() * Eigen::Map<const ColMajor>(dy, p.rows, n);
  }
  const int32_t* row_ptr = p.row_ptr.data<int32_t>();
  const int32_t* col_idx = p.col_idx.data<int32_t>();
  std::fill(dvalues, dvalues + p.nnz, 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const float* dy_i = dy + i * p.rows;
    const float* x_i = x + i * p.cols;
    for (int64_t r = 0; r < p.rows; ++r) {
      const float g = dy_i[r];
      for (int32_t k = row_ptr[r]; k < row_ptr[r + 1]; ++k) dvalues[k] += g * x_i[col_idx[k]];
    }
  }
}

}  // namespace engine
