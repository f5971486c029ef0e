// Where device tensors' bytes come from, split in two so that the bookkeeping can be tested on a
// machine without a GPU:
//   SegmentSource    the backing: hands out whole segments (cudaMalloc, cudaMallocManaged, or a
//                    fake in the tests). Knows nothing of blocks.
//   DeviceAllocator  what tensors ask: a block of some bytes, given back later. Two policies:
//                    DirectAllocator  one segment per block, returned at once (what a naive
//                                     engine does: a cudaMalloc and a cudaFree per tensor);
//                    CachingAllocator segments carved into blocks and kept (caching_allocator.h,
//                                     the `--pool` of the GPU).
// Plain C++: no CUDA header is needed here, and a block's bytes are never touched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace engine::gpu {

class SegmentSource {
 public:
  virtual ~SegmentSource() = default;
  // nullptr when the device has no memory left (the allocator decides what to do then).
  virtual void* allocate_segment(size_t bytes) = 0;
  virtual void free_segment(void* segment, size_t bytes) = 0;
  // Names the memory in reports: "device" or "managed".
  virtual const char* kind() const = 0;
};

struct DeviceMemoryStats {
  int64_t allocations = 0;          // blocks handed out, ever
  int64_t in_use_bytes = 0;         // bytes of blocks handed out and not given back
  int64_t peak_in_use_bytes = 0;    // high-water mark of in_use_bytes since reset_peak()
  int64_t reserved_bytes = 0;       // bytes of segments held from the source
  int64_t peak_reserved_bytes = 0;  // high-water mark of reserved_bytes, ever
  int64_t segments = 0;             // segments held now
  int64_t segment_allocs = 0;       // calls to SegmentSource::allocate_segment that succeeded
  int64_t segment_frees = 0;        // calls to SegmentSource::free_segment
  int64_t cache_hits = 0;           // allocations served from a held segment, no source call
};

class DeviceAllocator {
 public:
  DeviceAllocator() = default;
  DeviceAllocator(const DeviceAllocator&) = delete;
  DeviceAllocator& operator=(const DeviceAllocator&) = delete;
  virtual ~DeviceAllocator() = default;

  // Throws std::bad_alloc when the device has no memory left.
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* p) = 0;
  virtual const char* name() const = 0;

  const DeviceMemoryStats& stats() const { return stats_; }
  void reset_peak() { stats_.peak_in_use_bytes = stats_.in_use_bytes; }

 protected:
  void count_block_out(size_t bytes, bool from_cache);
  void count_block_back(size_t bytes);
  void count_segment_out(size_t bytes);
  void count_segment_back(size_t bytes);

 private:
  DeviceMemoryStats stats_;
};

// One segment per block. Every allocation and every free reaches the source, which for
// cudaMalloc/cudaFree also means a device synchronisation each: the baseline the caching
// allocator is measured against.
class DirectAllocator final : public DeviceAllocator {
 public:
  explicit DirectAllocator(SegmentSource& source) : source_(source) {}
  ~DirectAllocator() override;

  void* allocate(size_t bytes) override;
  void deallocate(void* p) override;
  const char* name() const override { return "cuda-direct"; }

 private:
  SegmentSource& source_;
  std::unordered_map<void*, size_t> sizes_;
};

}  // namespace engine::gpu
