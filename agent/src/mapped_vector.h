// A growable array of trivially copyable values in memory mapped from the
// kernel: usable where malloc is not (the leak scan runs while other threads,
// possibly holding malloc's locks, are stopped), and registered as the agent's
// own memory so that the scan never mistakes its contents for roots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "os_memory.h"

namespace memtide::agent {

template <typename T>
class MappedVector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  MappedVector() = default;
  MappedVector(const MappedVector&) = delete;
  MappedVector& operator=(const MappedVector&) = delete;
  ~MappedVector() { release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }

  // False when the kernel refuses memory.
  bool reserve(size_t capacity) {
    if (capacity <= capacity_) return true;
    size_t bytes = capacity * sizeof(T);
    bytes = (bytes + 4095) & ~size_t(4095);
    auto* grown = static_cast<T*>(map_zeroed(bytes));
    if (grown == nullptr) return false;
    if (size_ != 0) std::memcpy(static_cast<void*>(grown), data_, size_ * sizeof(T));
    if (data_ != nullptr) unmap(data_, mapped_bytes_);
    data_ = grown;
    mapped_bytes_ = bytes;
    capacity_ = bytes / sizeof(T);
    return true;
  }

  bool push_back(const T& value) {
    if (size_ == capacity_ && !reserve(capacity_ < 512 ? 512 : capacity_ * 2)) return false;
    data_[size_++] = value;
    return true;
  }

  // New elements are zero bytes.
  bool resize_zeroed(size_t n) {
    if (!reserve(n)) return false;
    if (n > size_) std::memset(static_cast<void*>(data_ + size_), 0, (n - size_) * sizeof(T));
    size_ = n;
    return true;
  }

  // Takes elements already written into the reserved space [size(), n).
  bool adopt_written(size_t n) {
    if (n > capacity_) return false;
    size_ = n;
    return true;
  }

  void swap(MappedVector& other) {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    std::swap(mapped_bytes_, other.mapped_bytes_);
  }

  void pop_back() { --size_; }
  void clear() { size_ = 0; }

  void release() {
    if (data_ != nullptr) unmap(data_, mapped_bytes_);
    data_ = nullptr;
    size_ = capacity_ = mapped_bytes_ = 0;
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t mapped_bytes_ = 0;
};

}  // namespace memtide::agent
