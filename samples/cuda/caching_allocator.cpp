#include "caching_allocator.h"

#include <memtide/annotate.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <vector>

namespace engine::gpu {

CachingAllocator::CachingAllocator(SegmentSource& source, const char* name)
    : source_(source), name_(name) {
  memtide_pool_created(this, name_);
}

CachingAllocator::~CachingAllocator() {
  memtide_pool_destroyed(this);
  // Every block is reached from its segment's first block; blocks still in use (a tensor that
  // outlived the allocator) go with their segment.
  std::vector<Block*> heads;
  for (FreeBlocks* pool : {&small_free_, &large_free_}) {
    for (Block* b : *pool) {
      if (b->prev == nullptr) heads.push_back(b);
    }
  }
  for (const auto& [p, b] : in_use_) {
    if (b->prev == nullptr) heads.push_back(b);
  }
  for (Block* head : heads) {
    size_t bytes = 0;
    for (Block* b = head; b != nullptr;) {
      bytes += b->size;
      Block* next = b->next;
      if (b != head) delete b;
      b = next;
    }
    source_.free_segment(head->ptr, bytes);
    delete head;
  }
}

size_t CachingAllocator::round_size(size_t bytes) {
  bytes = std::max<size_t>(bytes, 1);
  return (bytes + kMinBlockBytes - 1) / kMinBlockBytes * kMinBlockBytes;
}

size_t CachingAllocator::segment_size(size_t rounded) {
  if (rounded <= kSmallRequestBytes) return kSmallSegmentBytes;
  if (rounded < kSharedLargeSegmentLimit) return kLargeSegmentBytes;
  return (rounded + kLargeRoundingBytes - 1) / kLargeRoundingBytes * kLargeRoundingBytes;
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t rounded = round_size(bytes);
  const bool small = rounded <= kSmallRequestBytes;
  Block* block = find_free(rounded, small);
  const bool from_cache = block != nullptr;
  if (!block) block = new_segment(rounded, small);
  block = split(block, rounded);
  block->in_use = true;
  in_use_.emplace(block->ptr, block);
  count_block_out(block->size, from_cache);
  memtide_pool_allocated(this, block->ptr, block->size);
  return block->ptr;
}

CachingAllocator::Block* CachingAllocator::find_free(size_t rounded, bool small) {
  FreeBlocks& pool = pool_of(small);
  Block key{nullptr, rounded, small};
  const auto it = pool.lower_bound(&key);
  if (it == pool.end()) return nullptr;
  Block* block = *it;
  pool.erase(it);
  return block;
}

CachingAllocator::Block* CachingAllocator::new_segment(size_t rounded, bool small) {
  const size_t bytes = segment_size(rounded);
  void* p = source_.allocate_segment(bytes);
  if (p == nullptr) {
    // Out of device memory: cached segments that hold nothing may be what is missing.
    release_cached();
    p = source_.allocate_segment(bytes);
    if (p == nullptr) throw std::bad_alloc();
  }
  count_segment_out(bytes);
  return new Block{static_cast<std::byte*>(p), bytes, small};
}

CachingAllocator::Block* CachingAllocator::split(Block* block, size_t rounded) {
  const size_t rest = block->size - rounded;
  const bool worth_keeping = block->small ? rest >= kMinBlockBytes : rest > kSmallRequestBytes;
  if (!worth_keeping) return block;
  auto* tail = new Block{block->ptr + rounded, rest, block->small};
  tail->prev = block;
  tail->next = block->next;
  if (block->next) block->next->prev = tail;
  block->next = tail;
  block->size = rounded;
  pool_of(tail->small).insert(tail);
  return block;
}

void CachingAllocator::deallocate(void* p) {
  if (p == nullptr) return;
  // Reported first, so that the profiler never sees the address reused before it was freed.
  memtide_pool_freed(this, p);
  const auto it = in_use_.find(p);
  if (it == in_use_.end()) throw std::logic_error("CachingAllocator: pointer not from this pool");
  Block* block = it->second;
  in_use_.erase(it);
  block->in_use = false;
  count_block_back(block->size);
  FreeBlocks& pool = pool_of(block->small);
  if (block->prev && !block->prev->in_use) {
    Block* prev = block->prev;
    pool.erase(prev);
    merge_into(prev, block);
    block = prev;
  }
  if (block->next && !block->next->in_use) {
    pool.erase(block->next);
    merge_into(block, block->next);
  }
  pool.insert(block);
}

// Absorbs `neighbour`, the block right after `block`, and deletes it.
void CachingAllocator::merge_into(Block* block, Block* neighbour) {
  block->size += neighbour->size;
  block->next = neighbour->next;
  if (neighbour->next) neighbour->next->prev = block;
  delete neighbour;
}

void CachingAllocator::release_cached() {
  for (FreeBlocks* pool : {&small_free_, &large_free_}) {
    for (auto it = pool->begin(); it != pool->end();) {
      Block* b = *it;
      if (b->prev == nullptr && b->next == nullptr) {
        it = pool->erase(it);
        source_.free_segment(b->ptr, b->size);
        count_segment_back(b->size);
        delete b;
      } else {
        ++it;
      }
    }
  }
}

size_t CachingAllocator::block_size(const void* p) const {
  const auto it = in_use_.find(p);
  return it == in_use_.end() ? 0 : it->second->size;
}

size_t CachingAllocator::largest_free_block() const {
  size_t largest = 0;
  if (!small_free_.empty()) largest = (*small_free_.rbegin())->size;
  if (!large_free_.empty()) largest = std::max(largest, (*large_free_.rbegin())->size);
  return largest;
}

}  // namespace engine::gpu
