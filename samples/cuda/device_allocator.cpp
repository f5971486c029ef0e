#include "device_allocator.h"

#include <algorithm>
#include <new>
#include <stdexcept>

namespace engine::gpu {

void DeviceAllocator::count_block_out(size_t bytes, bool from_cache) {
  ++stats_.allocations;
  if (from_cache) ++stats_.cache_hits;
  stats_.in_use_bytes += static_cast<int64_t>(bytes);
  stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
}

void DeviceAllocator::count_block_back(size_t bytes) {
  stats_.in_use_bytes -= static_cast<int64_t>(bytes);
}

void DeviceAllocator::count_segment_out(size_t bytes) {
  ++stats_.segments;
  ++stats_.segment_allocs;
  stats_.reserved_bytes += static_cast<int64_t>(bytes);
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
}

void DeviceAllocator::count_segment_back(size_t bytes) {
  --stats_.segments;
  ++stats_.segment_frees;
  stats_.reserved_bytes -= static_cast<int64_t>(bytes);
}

DirectAllocator::~DirectAllocator() {
  for (const auto& [p, bytes] : sizes_) source_.free_segment(p, bytes);
}

void* DirectAllocator::allocate(size_t bytes) {
  bytes = std::max<size_t>(bytes, 1);
  void* p = source_.allocate_segment(bytes);
  if (p == nullptr) throw std::bad_alloc();
  sizes_.emplace(p, bytes);
  count_segment_out(bytes);
  count_block_out(bytes, /*from_cache=*/false);
  return p;
}

void DirectAllocator::deallocate(void* p) {
  if (p == nullptr) return;
  const auto it = sizes_.find(p);
  if (it == sizes_.end())
    throw std::logic_error("DirectAllocator: pointer not from this allocator");
  const size_t bytes = it->second;
  sizes_.erase(it);
  count_block_back(bytes);
  source_.free_segment(p, bytes);
  count_segment_back(bytes);
}

}  // namespace engine::gpu
