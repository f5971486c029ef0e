// Conversions use Eigen's half and bfloat16 types, which round to nearest even and handle
// subnormals, infinities and NaN.
#include "dtype.h"

#include <Eigen/Core>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace engine {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return 4;
    case DType::F16:
      return 2;
    case DType::BF16:
      return 2;
    case DType::I8:
      return 1;
    case DType::I32:
      return 4;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return "f32";
    case DType::F16:
      return "f16";
    case DType::BF16:
      return "bf16";
    case DType::I8:
      return "i8";
    case DType::I32:
      return "i32";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (DType d : {DType::F32, DType::F16, DType::BF16, DType::I8, DType::I32}) {
    if (name == dtype_name(d)) return d;
  }
  return std::nullopt;
}

void widen_to_f32(const void* src, DType src_dtype, float* dst, int64_t n) {
  switch (src_dtype) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::F16: {
      const auto* s = static_cast<const Eigen::half*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
    case DType::BF16: {
      const auto* s = static_cast<const Eigen::bfloat16*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
    default:
      throw std::logic_error(std::string("widen_to_f32: not a float dtype: ") +
                             dtype_name(src_dtype));
  }
}

void narrow_from_f32(const float* src, void* dst, DType dst_dtype, int64_t n) {
  switch (dst_dtype) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::F16: {
      auto* d = static_cast<Eigen::half*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = Eigen::half(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<Eigen::bfloat16*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = Eigen::bfloat16(src[i]);
      return;
    }
    default:
      throw std::logic_error(std::string("narrow_from_f32: not a float dtype: ") +
                             dtype_name(dst_dtype));
  }
}

uint16_t bf16_bits_stochastic(float value, uint32_t random16) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  // NaN and infinities keep their meaning; adding noise could turn the largest finite into inf,
  // which is the correct rounding of a value that close to the top anyway.
  if ((bits & 0x7f800000u) == 0x7f800000u) {
    return Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(value));
  }
  return static_cast<uint16_t>((bits + (random16 & 0xffffu)) >> 16);
}

}  // namespace engine
