#include "allocator.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace engine {

void* Allocator::allocate(size_t bytes) {
  bytes = round_up(std::max<size_t>(bytes, 1));
  void* p = do_allocate(bytes);
  ++stats_.blocks;
  stats_.live_bytes += static_cast<int64_t>(bytes);
  stats_.peak_live_bytes = std::max(stats_.peak_live_bytes, stats_.live_bytes);
  return p;
}

void Allocator::deallocate(void* p, size_t bytes) {
  if (p == nullptr) return;
  bytes = round_up(std::max<size_t>(bytes, 1));
  stats_.live_bytes -= static_cast<int64_t>(bytes);
  do_deallocate(p, bytes);
}

void* Allocator::system_alloc(size_t bytes) {
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (p == nullptr) throw std::bad_alloc();
  ++stats_.system_calls;
  stats_.reserved_bytes += static_cast<int64_t>(bytes);
  return p;
}

void Allocator::system_free(void* p, size_t bytes) {
  std::free(p);
  ++stats_.system_calls;
  stats_.reserved_bytes -= static_cast<int64_t>(bytes);
}

}  // namespace engine
