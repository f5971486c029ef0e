#include "tensor.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace engine {

// The header in front of a tensor's bytes; 64 bytes keep the data cache-line aligned.
struct Tensor::Header {
  Allocator* allocator;
  size_t bytes;  // the whole block, header included
  int64_t refs;
};
namespace {
constexpr size_t kHeaderBytes = Allocator::kAlignment;
}
static_assert(sizeof(int64_t) * 3 <= kHeaderBytes);

Shape::Shape(std::initializer_list<int64_t> dims) {
  if (dims.size() > static_cast<size_t>(kMaxRank)) throw std::invalid_argument("Shape: rank > 4");
  for (int64_t d : dims) {
    if (d < 0) throw std::invalid_argument("Shape: negative dimension");
    dims_[static_cast<size_t>(rank_++)] = d;
  }
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<size_t>(i)];
  return n;
}

Shape Shape::with_last(int64_t d) const {
  Shape s = *this;
  if (s.rank_ == 0) s.rank_ = 1;
  s.dims_[static_cast<size_t>(s.rank_ - 1)] = d;
  return s;
}

std::array<int64_t, Shape::kMaxRank> Shape::strides() const {
  std::array<int64_t, kMaxRank> s{};
  int64_t stride = 1;
  for (int i = rank_ - 1; i >= 0; --i) {
    s[static_cast<size_t>(i)] = stride;
    stride *= dims_[static_cast<size_t>(i)];
  }
  return s;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < rank_; ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims_[static_cast<size_t>(i)]);
  }
  return s + ")";
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Allocator& alloc) {
  Tensor t;
  const size_t bytes = kHeaderBytes + static_cast<size_t>(shape.numel()) * dtype_size(dtype);
  void* p = alloc.allocate(bytes);
  t.block_ = new (p) Header{&alloc, bytes, 1};
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Allocator& alloc) {
  Tensor t = empty(shape, dtype, alloc);
  std::memset(t.raw(), 0, t.nbytes());  // all-zero bits are 0 in every dtype
  return t;
}

Tensor::Tensor(const Tensor& o) noexcept : block_(o.block_), shape_(o.shape_), dtype_(o.dtype_) {
  if (block_) ++block_->refs;
}

Tensor::Tensor(Tensor&& o) noexcept : block_(o.block_), shape_(o.shape_), dtype_(o.dtype_) {
  o.block_ = nullptr;
}

Tensor& Tensor::operator=(const Tensor& o) noexcept {
  if (this != &o) {
    if (o.block_) ++o.block_->refs;
    release();
    block_ = o.block_;
    shape_ = o.shape_;
    dtype_ = o.dtype_;
  }
  return *this;
}

Tensor& Tensor::operator=(Tensor&& o) noexcept {
  if (this != &o) {
    release();
    block_ = o.block_;
    shape_ = o.shape_;
    dtype_ = o.dtype_;
    o.block_ = nullptr;
  }
  return *this;
}

void Tensor::release() noexcept {
  if (block_ && --block_->refs == 0) {
    Allocator* alloc = block_->allocator;
    const size_t bytes = block_->bytes;
    block_->~Header();
    alloc->deallocate(block_, bytes);
  }
  block_ = nullptr;
}

size_t Tensor::allocated_bytes() const {
  return block_ ? Allocator::round_up(block_->bytes) : 0;
}

Allocator& Tensor::allocator() const {
  if (!block_) throw std::logic_error("Tensor::allocator on an empty tensor");
  return *block_->allocator;
}

int64_t Tensor::use_count() const {
  return block_ ? block_->refs : 0;
}

void* Tensor::raw() {
  if (!block_) throw std::logic_error("Tensor: access to an empty tensor");
  return reinterpret_cast<std::byte*>(block_) + kHeaderBytes;
}

const void* Tensor::raw() const {
  if (!block_) throw std::logic_error("Tensor: access to an empty tensor");
  return reinterpret_cast<const std::byte*>(block_) + kHeaderBytes;
}

void Tensor::check_type(size_t size, int code) const {
  const bool ok = (code == 0 && dtype_ == DType::F32) || (code == 1 && dtype_ == DType::I32) ||
                  (code == 2 && dtype_ == DType::I8) ||
                  (code == 3 && size == 2 && (dtype_ == DType::F16 || dtype_ == DType::BF16));
  if (!ok) {
    throw std::logic_error(std::string("Tensor: typed access does not match dtype ") +
                           dtype_name(dtype_));
  }
}

Tensor Tensor::view(const Shape& shape) const {
  if (shape.numel() != numel()) {
    throw std::invalid_argument("Tensor::view: " + shape_.str() + " cannot be seen as " +
                                shape.str());
  }
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

F32Read::F32Read(const Tensor& t) {
  if (t.dtype() == DType::F32) {
    data_ = t.data<float>();
    return;
  }
  copy_ = Tensor::empty(t.shape(), DType::F32, t.allocator());
  widen_to_f32(t.raw(), t.dtype(), copy_.data<float>(), t.numel());
  data_ = copy_.data<float>();
}

F32Write::F32Write(Tensor& t, bool load) : target_(t) {
  if (t.dtype() == DType::F32) {
    data_ = t.data<float>();
    return;
  }
  copy_ = Tensor::empty(t.shape(), DType::F32, t.allocator());
  data_ = copy_.data<float>();
  if (load) widen_to_f32(t.raw(), t.dtype(), data_, t.numel());
}

void F32Write::commit() {
  if (copy_.defined()) narrow_from_f32(data_, target_.raw(), target_.dtype(), target_.numel());
}

Tensor convert(const Tensor& t, DType dtype) {
  Tensor out = Tensor::empty(t.shape(), dtype, t.allocator());
  F32Read in(t);
  narrow_from_f32(in.data(), out.raw(), dtype, t.numel());
  return out;
}

void fill_from_f32(Tensor& t, const float* values) {
  narrow_from_f32(values, t.raw(), t.dtype(), t.numel());
}

}  // namespace engine
