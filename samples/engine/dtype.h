// The element types a tensor can store, and the conversions between them and f32.
//
// Floating types are storage formats only: kernels widen their inputs to f32, compute and
// accumulate in f32, and narrow the result back ("f16/bf16 storage, f32 accumulation").
// I8 holds quantized weights (always paired with f32 scales, see int8.h); I32 holds token ids,
// class labels and CSR indices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace engine {

enum class DType : uint8_t { F32, F16, BF16, I8, I32 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
std::optional<DType> parse_dtype(std::string_view name);
inline bool is_float(DType d) {
  return d == DType::F32 || d == DType::F16 || d == DType::BF16;
}

// n elements of a float dtype to f32, and back (round to nearest even).
void widen_to_f32(const void* src, DType src_dtype, float* dst, int64_t n);
void narrow_from_f32(const float* src, void* dst, DType dst_dtype, int64_t n);

// One f32 value to bf16 bits with stochastic rounding: the 16 dropped bits are rounded up with
// probability equal to their value, so that small optimizer updates are not lost on average
// (the trick llm.c uses for its bf16 parameters). `random16` is 16 random bits.
uint16_t bf16_bits_stochastic(float value, uint32_t random16);

}  // namespace engine
