// An append-only array that never moves its elements: chunks are mapped as
// it grows, so readers may index published elements without any lock while a
// writer appends under its own lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "os_memory.h"

namespace memtide::agent {

template <typename T, size_t kChunkElements = 65536, size_t kMaxChunks = 4096>
class ChunkedArray {
 public:
  // Index of the next element; elements below it are published.
  uint32_t size() const { return size_.load(std::memory_order_acquire); }

  const T& operator[](uint32_t index) const {
    return chunks_[index / kChunkElements].load(std::memory_order_relaxed)[index % kChunkElements];
  }

  // Appends under the caller's lock; returns the index, or UINT32_MAX when full
  // or out of memory.
  uint32_t append(const T& value) {
    uint32_t index = size_.load(std::memory_order_relaxed);
    size_t chunk = index / kChunkElements;
    if (chunk >= kMaxChunks) return UINT32_MAX;
    T* elements = chunks_[chunk].load(std::memory_order_relaxed);
    if (elements == nullptr) {
      elements = static_cast<T*>(map_zeroed(sizeof(T) * kChunkElements));
      if (elements == nullptr) return UINT32_MAX;
      chunks_[chunk].store(elements, std::memory_order_relaxed);
    }
    elements[index % kChunkElements] = value;
    size_.store(index + 1, std::memory_order_release);
    return index;
  }

 private:
  std::atomic<uint32_t> size_{0};
  std::atomic<T*> chunks_[kMaxChunks] = {};
};

}  // namespace memtide::agent
