// Sparse weights in CSR form (`--sparse D`): a pruned (OUT, IN) matrix keeps only its nonzeros.
// Row r's values are values[row_ptr[r] .. row_ptr[r+1]) at columns col_idx[...]. The values are
// the trained parameter; the pattern is fixed once pruned. At density D the weight costs
// D * (value + 4-byte column index) per entry instead of one value, plus one index per row.
#pragma once

#include <cstdint>

#include "tensor.h"

namespace engine {

struct CsrPattern {
  int64_t rows = 0, cols = 0, nnz = 0;
  Tensor row_ptr;  // I32 (ROWS + 1)
  Tensor col_idx;  // I32 (NNZ), ascending within a row
};

// Magnitude pruning of a dense w (ROWS, COLS): every row keeps its round(density * COLS)
// largest-magnitude entries (at least one). Returns the pattern; `values` receives the kept
// values as an f32 (NNZ) tensor.
CsrPattern csr_prune(const float* w, int64_t rows, int64_t cols, float density, Allocator& alloc,
                     Tensor* values);

// y (N, ROWS) = x (N, COLS) · Wᵀ
void csr_matmul_forward(float* y, const float* x, const CsrPattern& p, const float* values,
                        int64_t n);
// dx (N, COLS) = dy · W (skipped when dx is null); dvalues = the entries of dyᵀ · x that the
// pattern keeps (a sampled product: the gradient of a pruned entry is never formed).
void csr_matmul_backward(float* dx, float* dvalues, const float* dy, const float* x,
                         const CsrPattern& p, const float* values, int64_t n);

}  // namespace engine
