// Int8 inference (`--int8`): symmetric quantization with one f32 scale per output row.
// A weight row r is stored as int8 q with scale s[r] = max|row| / 127, value ≈ q * s[r].
// Activations are quantized the same way per input row at run time ("dynamic quantization"),
// products are summed exactly in int32 and scaled back to f32. Weights shrink 4x from f32.
#pragma once

#include <cstdint>

#include "csr.h"
#include "tensor.h"

namespace engine {

struct Int8Rows {
  Tensor q;      // I8 (ROWS, COLS) dense, or (NNZ) for a CSR weight
  Tensor scale;  // F32 (ROWS)
};

Int8Rows quantize_rows(const float* w, int64_t rows, int64_t cols, Allocator& alloc);
// The values of a CSR weight, one scale per row of the pattern.
Int8Rows quantize_csr_rows(const float* values, const CsrPattern& p, Allocator& alloc);

// y (N, OUT) = x (N, IN) · Wᵀ for a dense int8 weight.
void int8_matmul_forward(float* y, const float* x, const Int8Rows& w, int64_t n, int64_t in,
                         int64_t out, Allocator& scratch);
// The same for an int8 CSR weight.
void int8_csr_matmul_forward(float* y, const float* x, const Int8Rows& w, const CsrPattern& p,
                             int64_t n, Allocator& scratch);

}  // namespace engine
