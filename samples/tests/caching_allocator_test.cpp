// The device allocators' bookkeeping on a fake backing: segments are address ranges that are
// never touched, so block splitting, caching, reuse, rounding and the reserved / in-use counts
// are checked exactly on any machine, GPU or not.
#include <gtest/gtest.h>

#include <cstdint>
#include <new>
#include <vector>

#include "cuda/caching_allocator.h"

namespace engine::gpu {
namespace {

constexpr size_t KiB = size_t{1} << 10;
constexpr size_t MiB = size_t{1} << 20;

// Hands out distinct address ranges, with a gap between segments so that no test can pass by
// merging blocks across segments. `capacity` bounds the bytes held at once, as a device would.
class FakeSegments final : public SegmentSource {
 public:
  explicit FakeSegments(size_t capacity = size_t{1} << 40) : capacity_(capacity) {}

  void* allocate_segment(size_t bytes) override {
    if (held_ + bytes > capacity_) return nullptr;
    held_ += bytes;
    allocated.push_back(bytes);
    const uintptr_t at = next_;
    next_ += bytes + 64 * MiB;
    return reinterpret_cast<void*>(at);
  }
  void free_segment(void*, size_t bytes) override {
    held_ -= bytes;
    freed.push_back(bytes);
  }
  const char* kind() const override { return "fake"; }

  size_t held() const { return held_; }
  std::vector<size_t> allocated, freed;

 private:
  size_t capacity_;
  size_t held_ = 0;
  uintptr_t next_ = uintptr_t{1} << 32;
};

std::ptrdiff_t distance(const void* from, const void* to) {
  return static_cast<const std::byte*>(to) - static_cast<const std::byte*>(from);
}

TEST(CachingAllocator, RoundsRequestsAndSizesSegmentsByPool) {
  EXPECT_EQ(CachingAllocator::round_size(0), 512u);
  EXPECT_EQ(CachingAllocator::round_size(1), 512u);
  EXPECT_EQ(CachingAllocator::round_size(512), 512u);
  EXPECT_EQ(CachingAllocator::round_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::segment_size(512), 2 * MiB);
  EXPECT_EQ(CachingAllocator::segment_size(1 * MiB), 2 * MiB);
  EXPECT_EQ(CachingAllocator::segment_size(1 * MiB + 512), 20 * MiB);
  EXPECT_EQ(CachingAllocator::segment_size(10 * MiB - 512), 20 * MiB);
  EXPECT_EQ(CachingAllocator::segment_size(10 * MiB), 10 * MiB);
  EXPECT_EQ(CachingAllocator::segment_size(11 * MiB), 12 * MiB);
}

TEST(CachingAllocator, CarvesSmallBlocksOutOfOneSegment) {
  FakeSegments source;
  CachingAllocator pool(source);
  void* a = pool.allocate(1000);
  void* b = pool.allocate(3000);
  void* c = pool.allocate(1);
  EXPECT_EQ(distance(a, b), 1024);
  EXPECT_EQ(distance(b, c), 3072);
  EXPECT_EQ(pool.block_size(a), 1024u);
  EXPECT_EQ(pool.block_size(b), 3072u);
  EXPECT_EQ(pool.block_size(c), 512u);
  EXPECT_EQ(source.allocated, std::vector<size_t>{2 * MiB});
  const DeviceMemoryStats& s = pool.stats();
  EXPECT_EQ(s.allocations, 3);
  EXPECT_EQ(s.cache_hits, 2);  // b and c come from the segment a's miss obtained
  EXPECT_EQ(s.in_use_bytes, 1024 + 3072 + 512);
  EXPECT_EQ(s.reserved_bytes, static_cast<int64_t>(2 * MiB));
  EXPECT_EQ(s.segments, 1);
  EXPECT_EQ(pool.largest_free_block(), 2 * MiB - 4608);
}

TEST(CachingAllocator, FreedBlocksMergeAndAreReusedBestFit) {
  FakeSegments source;
  CachingAllocator pool(source);
  void* a = pool.allocate(2048);
  void* b = pool.allocate(512);
  void* c = pool.allocate(1024);
  void* d = pool.allocate(512);
  pool.deallocate(a);  // a 2048 hole at the start
  pool.deallocate(c);  // a 1024 hole between b and d
  // Best fit: the 1024 hole, not the 2048 one nor the tail of the segment.
  void* e = pool.allocate(700);
  EXPECT_EQ(e, c);
  void* f = pool.allocate(1500);
  EXPECT_EQ(f, a);
  EXPECT_EQ(pool.block_size(f), 1536u);  // split: 512 bytes stay free after it
  pool.deallocate(f);                    // merges with that 512 back into 2048
  pool.deallocate(b);                    // and with b: 2560 free at the start
  void* g = pool.allocate(2560);
  EXPECT_EQ(g, a);
  for (void* p : {g, e, d}) pool.deallocate(p);
  EXPECT_EQ(pool.largest_free_block(), 2 * MiB);  // the whole segment is one block again
  EXPECT_EQ(pool.stats().in_use_bytes, 0);
  EXPECT_EQ(pool.stats().reserved_bytes, static_cast<int64_t>(2 * MiB));  // cached, not freed
  EXPECT_TRUE(source.freed.empty());
  EXPECT_EQ(pool.stats().segment_allocs, 1);
}

TEST(CachingAllocator, LargeBlocksSplitOnlyWhenMoreThanOneMiBRemains) {
  FakeSegments source;
  CachingAllocator pool(source);
  void* a = pool.allocate(3 * MiB);
  EXPECT_EQ(pool.block_size(a), 3 * MiB);
  EXPECT_EQ(pool.largest_free_block(), 17 * MiB);
  // 16.5 MiB leaves half a MiB, too little to keep apart: the block takes all 17 MiB.
  void* b = pool.allocate(16 * MiB + 512 * KiB);
  EXPECT_EQ(distance(a, b), static_cast<std::ptrdiff_t>(3 * MiB));
  EXPECT_EQ(pool.block_size(b), 17 * MiB);
  EXPECT_EQ(pool.stats().in_use_bytes, static_cast<int64_t>(20 * MiB));
  // From 10 MiB a request gets a segment of its own, rounded up to 2 MiB.
  void* c = pool.allocate(11 * MiB);
  EXPECT_EQ(pool.block_size(c), 12 * MiB);
  EXPECT_EQ(source.allocated, (std::vector<size_t>{20 * MiB, 12 * MiB}));
  for (void* p : {a, b, c}) pool.deallocate(p);
}

TEST(CachingAllocator, SmallAndLargePoolsNeverShareASegment) {
  FakeSegments source;
  CachingAllocator pool(source);
  void* large = pool.allocate(2 * MiB);  // 18 MiB of its 20 MiB segment stay free
  void* small = pool.allocate(512);      // still a segment of its own
  EXPECT_EQ(source.allocated, (std::vector<size_t>{20 * MiB, 2 * MiB}));
  EXPECT_EQ(pool.stats().reserved_bytes, static_cast<int64_t>(22 * MiB));
  EXPECT_EQ(pool.stats().cache_hits, 0);
  pool.deallocate(small);
  pool.deallocate(large);
}

TEST(CachingAllocator, OutOfMemoryReleasesCachedSegmentsThenRetriesOnce) {
  FakeSegments source(30 * MiB);
  CachingAllocator pool(source);
  pool.deallocate(pool.allocate(3 * MiB));  // a 20 MiB segment, now cached and empty
  // 22 MiB fit in no cached block, and 20 + 22 MiB exceed the device: the cache goes first.
  void* a = pool.allocate(22 * MiB);
  EXPECT_EQ(source.freed, std::vector<size_t>{20 * MiB});
  EXPECT_EQ(pool.stats().reserved_bytes, static_cast<int64_t>(22 * MiB));
  void* b = pool.allocate(1);  // a small segment still fits: 24 of 30 MiB
  EXPECT_EQ(source.held(), 24 * MiB);
  EXPECT_THROW(pool.allocate(8 * MiB), std::bad_alloc);  // nothing cached is left to give back
  EXPECT_EQ(pool.stats().segments, 2);
  EXPECT_EQ(pool.stats().peak_reserved_bytes, static_cast<int64_t>(24 * MiB));
  EXPECT_EQ(pool.stats().in_use_bytes, static_cast<int64_t>(22 * MiB + 512));
  pool.deallocate(a);
  pool.deallocate(b);
}

TEST(CachingAllocator, ReleaseCachedKeepsSegmentsThatHoldBlocks) {
  FakeSegments source;
  CachingAllocator pool(source);
  void* a = pool.allocate(1 * MiB);
  void* b = pool.allocate(1 * MiB);  // the rest of the first 2 MiB segment, exactly
  void* c = pool.allocate(1 * MiB);  // a second segment
  EXPECT_EQ(distance(a, b), static_cast<std::ptrdiff_t>(1 * MiB));
  EXPECT_EQ(source.allocated.size(), 2u);
  pool.deallocate(a);
  pool.deallocate(b);
  pool.release_cached();
  EXPECT_EQ(source.freed, std::vector<size_t>{2 * MiB});
  EXPECT_EQ(pool.stats().reserved_bytes, static_cast<int64_t>(2 * MiB));
  EXPECT_EQ(pool.stats().in_use_bytes, static_cast<int64_t>(1 * MiB));
  pool.deallocate(c);
}

TEST(CachingAllocator, SteadyTrainingStepsMakeNoSegmentCalls) {
  FakeSegments source;
  CachingAllocator pool(source);
  // One "step": activations of a few repeating sizes, freed in reverse (as backward does).
  const std::vector<size_t> sizes = {33 * KiB, 16 * KiB, 33 * KiB, 16 * KiB, 2 * KiB, 3 * MiB};
  for (int step = 0; step < 50; ++step) {
    std::vector<void*> live;
    for (size_t s : sizes) live.push_back(pool.allocate(s));
    pool.reset_peak();
    while (!live.empty()) {
      pool.deallocate(live.back());
      live.pop_back();
    }
  }
  EXPECT_EQ(source.allocated, (std::vector<size_t>{2 * MiB, 20 * MiB}));
  EXPECT_EQ(pool.stats().allocations, 300);
  EXPECT_EQ(pool.stats().cache_hits, 298);
  EXPECT_EQ(pool.stats().peak_in_use_bytes,
            static_cast<int64_t>((33 + 16 + 33 + 16 + 2) * KiB + 3 * MiB));
  EXPECT_EQ(pool.stats().in_use_bytes, 0);
}

TEST(CachingAllocator, ReturnsEverySegmentWhenDestroyed) {
  FakeSegments source;
  {
    CachingAllocator pool(source);
    pool.allocate(100);  // still in use when the pool goes
    pool.deallocate(pool.allocate(5 * MiB));
    pool.allocate(30 * MiB);
    EXPECT_EQ(source.held(), (2 + 20 + 30) * MiB);
  }
  EXPECT_EQ(source.held(), 0u);
  EXPECT_EQ(source.freed.size(), 3u);
}

TEST(CachingAllocator, RejectsForeignPointers) {
  FakeSegments source;
  CachingAllocator pool(source);
  int local = 0;
  EXPECT_THROW(pool.deallocate(&local), std::logic_error);
  pool.deallocate(nullptr);  // a no-op, as for free()
}

TEST(DirectAllocator, EveryBlockIsASegmentOfItsOwn) {
  FakeSegments source;
  {
    DirectAllocator direct(source);
    void* a = direct.allocate(1000);
    void* b = direct.allocate(1000);
    direct.deallocate(a);
    EXPECT_EQ(source.allocated, (std::vector<size_t>{1000, 1000}));
    EXPECT_EQ(source.freed, std::vector<size_t>{1000});
    EXPECT_EQ(direct.stats().in_use_bytes, 1000);
    EXPECT_EQ(direct.stats().reserved_bytes, 1000);
    EXPECT_EQ(direct.stats().cache_hits, 0);
    (void)b;  // freed by the destructor
  }
  EXPECT_EQ(source.held(), 0u);
}

}  // namespace
}  // namespace engine::gpu
