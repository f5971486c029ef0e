#include "arena.h"

#include <memtide/annotate.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace engine {

namespace {
// Room for this many free ranges per chunk is reserved up front, so that the free list itself
// does not call malloc in the steady state.
constexpr size_t kFreeListReserve = 128;
}  // namespace

ArenaAllocator::ArenaAllocator(size_t chunk_bytes, const char* name)
    : chunk_bytes_(round_up(chunk_bytes)) {
  chunks_.reserve(16);
  memtide_pool_created(this, name);
}

ArenaAllocator::~ArenaAllocator() {
  memtide_pool_destroyed(this);
  for (Chunk& c : chunks_) system_free(c.base, c.size);
}

ArenaAllocator::Chunk& ArenaAllocator::add_chunk(size_t min_bytes) {
  // A tensor larger than a chunk gets a chunk of its own size.
  const size_t size = std::max(chunk_bytes_, round_up(min_bytes));
  auto* base = static_cast<std::byte*>(system_alloc(size));
  Chunk& c = chunks_.emplace_back(Chunk{base, size, {}});
  c.free.reserve(kFreeListReserve);
  c.free.push_back(Range{0, size});
  return c;
}

ArenaAllocator::Chunk& ArenaAllocator::chunk_of(const void* p) {
  const auto* b = static_cast<const std::byte*>(p);
  for (Chunk& c : chunks_) {
    if (b >= c.base && b < c.base + c.size) return c;
  }
  throw std::logic_error("ArenaAllocator: pointer does not belong to this arena");
}

void* ArenaAllocator::do_allocate(size_t bytes) {
  // Best fit: the smallest free range that holds the block keeps large ranges whole for large
  // tensors, which matters because activations of one step come in a few repeating sizes.
  Chunk* best_chunk = nullptr;
  size_t best_index = 0;
  size_t best_size = std::numeric_limits<size_t>::max();
  for (Chunk& c : chunks_) {
    for (size_t i = 0; i < c.free.size(); ++i) {
      if (c.free[i].size >= bytes && c.free[i].size < best_size) {
        best_chunk = &c;
        best_index = i;
        best_size = c.free[i].size;
      }
    }
  }
  if (best_chunk == nullptr) {
    best_chunk = &add_chunk(bytes);
    best_index = 0;
  }
  Range& r = best_chunk->free[best_index];
  std::byte* p = best_chunk->base + r.offset;
  r.offset += bytes;
  r.size -= bytes;
  if (r.size == 0)
    best_chunk->free.erase(best_chunk->free.begin() + static_cast<ptrdiff_t>(best_index));
  memtide_pool_allocated(this, p, bytes);
  return p;
}

void ArenaAllocator::do_deallocate(void* p, size_t bytes) {
  // Tell the profiler first, so that the address cannot be seen reused before it was freed.
  memtide_pool_freed(this, p);
  Chunk& c = chunk_of(p);
  const size_t offset = static_cast<size_t>(static_cast<std::byte*>(p) - c.base);
  auto next = std::lower_bound(c.free.begin(), c.free.end(), offset,
                               [](const Range& r, size_t off) { return r.offset < off; });
  const bool joins_prev =
      next != c.free.begin() && std::prev(next)->offset + std::prev(next)->size == offset;
  const bool joins_next = next != c.free.end() && offset + bytes == next->offset;
  if (joins_prev && joins_next) {
    std::prev(next)->size += bytes + next->size;
    c.free.erase(next);
  } else if (joins_prev) {
    std::prev(next)->size += bytes;
  } else if (joins_next) {
    next->offset = offset;
    next->size += bytes;
  } else {
    c.free.insert(next, Range{offset, bytes});
  }
}

size_t ArenaAllocator::largest_free_range() const {
  size_t largest = 0;
  for (const Chunk& c : chunks_) {
    for (const Range& r : c.free) largest = std::max(largest, r.size);
  }
  return largest;
}

}  // namespace engine
