// Tensor: a shape, a dtype and a counted handle on bytes from an Allocator.
//
// Copying a Tensor shares its bytes (like a PyTorch tensor, unlike an Eigen matrix): a layer
// keeps its input for backward by copying the handle, and the bytes go back to the allocator
// when the last handle goes. The count lives in a 64-byte header at the start of the block
// itself, so one tensor costs exactly one allocator call and the pool can serve it whole.
// Tensors are always contiguous, row-major; strides are derived from the shape.
// Not thread-safe: the engine runs on one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "allocator.h"
#include "dtype.h"

namespace engine {

// Shape letters used in comments across the engine (after llm.c):
//   B batch, T sequence length, C channels/features, V vocabulary, NH heads, HS head size,
//   N rows = every leading dimension flattened (B or B*T), H/W image height and width.
class Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t numel() const;
  int64_t last() const { return rank_ == 0 ? 1 : dims_[static_cast<size_t>(rank_ - 1)]; }
  // All leading dimensions flattened: a (B, T, C) activation is N = B*T rows of C.
  int64_t rows() const { return last() == 0 ? 0 : numel() / last(); }
  // The same shape with the last dimension replaced (a Linear layer's output).
  Shape with_last(int64_t d) const;
  std::array<int64_t, kMaxRank> strides() const;
  std::string str() const;

  bool operator==(const Shape& o) const { return rank_ == o.rank_ && dims_ == o.dims_; }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised bytes.
  static Tensor empty(const Shape& shape, DType dtype, Allocator& alloc);
  static Tensor zeros(const Shape& shape, DType dtype, Allocator& alloc);

  Tensor(const Tensor& o) noexcept;
  Tensor(Tensor&& o) noexcept;
  Tensor& operator=(const Tensor& o) noexcept;
  Tensor& operator=(Tensor&& o) noexcept;
  ~Tensor() { release(); }

  bool defined() const { return block_ != nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  int64_t numel() const { return shape_.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  // Bytes held from the allocator, header included.
  size_t allocated_bytes() const;
  Allocator& allocator() const;
  int64_t use_count() const;

  void* raw();
  const void* raw() const;
  // Typed access, checked against the dtype (float for F32, int32_t for I32, int8_t for I8).
  template <class T>
  T* data() {
    check_type(sizeof(T), type_code<T>());
    return static_cast<T*>(raw());
  }
  template <class T>
  const T* data() const {
    check_type(sizeof(T), type_code<T>());
    return static_cast<const T*>(raw());
  }

  // The same bytes seen with another shape of equal numel.
  Tensor view(const Shape& shape) const;

 private:
  struct Header;
  template <class T>
  static constexpr int type_code() {
    if constexpr (std::is_same_v<T, float>) return 0;
    if constexpr (std::is_same_v<T, int32_t>) return 1;
    if constexpr (std::is_same_v<T, int8_t>) return 2;
    return 3;  // raw 16-bit storage (uint16_t) for f16/bf16
  }
  void check_type(size_t size, int code) const;
  void release() noexcept;

  Header* block_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::F32;
};

// f32 access to a float tensor of any storage dtype. For f32 it is the tensor's own bytes; for
// f16/bf16 it is a widened copy from the tensor's allocator, freed with the view.
class F32Read {
 public:
  explicit F32Read(const Tensor& t);
  const float* data() const { return data_; }

 private:
  Tensor copy_;
  const float* data_;
};

// An f32 buffer whose contents end up in `t`: f32 tensors are written in place, f16/bf16 ones
// through a temporary that commit() narrows into the tensor. With `load`, the buffer starts with
// the tensor's current values.
class F32Write {
 public:
  explicit F32Write(Tensor& t, bool load = false);
  float* data() { return data_; }
  void commit();

 private:
  Tensor& target_;
  Tensor copy_;
  float* data_;
};

// Copies a float tensor into a new tensor of another float dtype (same allocator).
Tensor convert(const Tensor& t, DType dtype);
// Fills a float tensor from f32 values.
void fill_from_f32(Tensor& t, const float* values);

}  // namespace engine
