// CachingAllocator: the GPU's `--pool`, a caching device allocator after PyTorch's, in miniature.
//
// cudaMalloc and cudaFree are slow and synchronise the device, so tensors are carved out of
// segments that are kept once obtained. The policy:
//   rounding   every request is rounded up to a multiple of kMinBlockBytes (512);
//   two pools  small requests (<= 1 MiB) come from 2 MiB segments, large ones from 20 MiB
//              segments (requests under 10 MiB) or from a segment of their own rounded up to
//              2 MiB; the pools never share a segment, so small blocks cannot pin a large one;
//   best fit   the smallest free block of the pool that holds the request (lowest address on
//              ties), split when the rest is worth keeping: at least 512 bytes in the small
//              pool, more than 1 MiB in the large one;
//   caching    a freed block merges with free neighbours of its segment and waits for reuse;
//              segments go back to the source only when an allocation fails (then every wholly
//              free segment is released and the allocation retried once), on release_cached(),
//              or when the allocator dies.
// The engine runs everything on one stream, in order: a block freed on the host may still be read
// by a kernel queued earlier, but any kernel that writes its next owner is queued after that one,
// so reuse needs no event tracking (PyTorch records events per stream for the general case).
//
// A profiler sees only the segments (the pool's reserve). So every block handed out is reported
// through the annotate API (memtide_pool_allocated / memtide_pool_freed), and device memory is
// attributed to the scope (layer, phase) that asked for it.
//
//   engine::gpu::CudaMallocSource source;
//   engine::gpu::CachingAllocator pool(source);      // reported as pool "cuda-caching"
//   void* a = pool.allocate(1000);                   // 1024 bytes at the start of a 2 MiB segment
//   pool.deallocate(a);                              // cached: the next 1000-byte tensor reuses it
#pragma once

#include <set>
#include <unordered_map>

#include "device_allocator.h"

namespace engine::gpu {

class CachingAllocator final : public DeviceAllocator {
 public:
  static constexpr size_t kMinBlockBytes = 512;
  static constexpr size_t kSmallRequestBytes = size_t{1} << 20;
  static constexpr size_t kSmallSegmentBytes = size_t{2} << 20;
  static constexpr size_t kLargeSegmentBytes = size_t{20} << 20;
  static constexpr size_t kSharedLargeSegmentLimit = size_t{10} << 20;
  static constexpr size_t kLargeRoundingBytes = size_t{2} << 20;

  // `name` must outlive the allocator (the profiler keeps the pointer until it copies it).
  explicit CachingAllocator(SegmentSource& source, const char* name = "cuda-caching");
  ~CachingAllocator() override;

  void* allocate(size_t bytes) override;
  void deallocate(void* p) override;
  const char* name() const override { return name_; }

  // Gives every wholly free segment back to the source (PyTorch's empty_cache).
  void release_cached();

  // The size a request is served with, and the segment a miss obtains for it.
  static size_t round_size(size_t bytes);
  static size_t segment_size(size_t rounded);
  // Size of the block behind a pointer handed out and not yet freed (0 if none).
  size_t block_size(const void* p) const;
  // Size of the largest free block, for fragmentation checks.
  size_t largest_free_block() const;

 private:
  struct Block {
    std::byte* ptr;
    size_t size;
    bool small;
    bool in_use = false;
    Block* prev = nullptr;  // neighbours in the same segment, by address
    Block* next = nullptr;
  };
  struct BySizeThenAddress {
    bool operator()(const Block* a, const Block* b) const {
      return a->size != b->size ? a->size < b->size : a->ptr < b->ptr;
    }
  };
  using FreeBlocks = std::set<Block*, BySizeThenAddress>;

  FreeBlocks& pool_of(bool small) { return small ? small_free_ : large_free_; }
  Block* find_free(size_t rounded, bool small);
  Block* new_segment(size_t rounded, bool small);
  Block* split(Block* block, size_t rounded);
  void merge_into(Block* block, Block* neighbour);

  SegmentSource& source_;
  const char* name_;
  FreeBlocks small_free_, large_free_;
  std::unordered_map<const void*, Block*> in_use_;
};

}  // namespace engine::gpu
