// memory_timeline and live_blocks_at on hand-made traces: every bucket's
// lowest, highest and last value worked out by hand from the events (1000 ns
// apart), the bands of steps and scopes, a window that starts from the state
// before it, pools' reserve and use, a GPU device, and the live set at a
// moment against the chart.
#include <gtest/gtest.h>

#include <vector>

#include "memtide/analysis/allocation_index.h"
#include "memtide/analysis/memory_timeline.h"
#include "memtide_common/event.h"
#include "memtide_common/gpu_event.h"
#include "synthetic_trace.h"

namespace memtide::analysis {
namespace {

using test::SyntheticTrace;
using B = TimelineBucket;

// 15 events at 1000..15000 ns: heap 100, 150, 50, 250, 200, 0, 10; a 4 KiB
// mapping cut to 3 KiB; steps 1 and 2; scope "forward" around "linear".
void add_training_events(SyntheticTrace& t) {
  t.sql(
      "INSERT INTO strings VALUES(1, 'forward'), (2, 'linear');"
      "INSERT INTO scopes VALUES(1, 0, 1, 1, 'annotate'), (2, 1, 2, 2, 'annotate');");
  t.add(EventKind::kScopeEnter, 0, 0, 1);     // 1000
  t.add(EventKind::kMalloc, 0x1000, 100);     // 2000
  t.add(EventKind::kMalloc, 0x2000, 50);      // 3000
  t.add(EventKind::kFree, 0x1000, 0);         // 4000
  t.add(EventKind::kMmap, 0x100000, 4096);    // 5000
  t.add(EventKind::kMunmap, 0x100400, 1024);  // 6000
  t.add(EventKind::kStep, 0, 0, 1);           // 7000
  t.add(EventKind::kScopeEnter, 0, 0, 2);     // 8000
  t.add(EventKind::kNew, 0x3000, 200);        // 9000
  t.add(EventKind::kScopeExit, 0, 0, 2);      // 10000
  t.add(EventKind::kFree, 0x2000, 0);         // 11000
  t.add(EventKind::kScopeExit, 0, 0, 1);      // 12000
  t.add(EventKind::kDelete, 0x3000, 0);       // 13000
  t.add(EventKind::kStep, 0, 0, 2);           // 14000
  t.add(EventKind::kMalloc, 0x4000, 10);      // 15000
}

TEST(MemoryTimeline, WholeRunBucketsHoldMinMaxAndLast) {
  SyntheticTrace t("timeline_whole");
  add_training_events(t);
  TraceFile trace(t.write());
  // The run is [1000, 15001): 7 buckets start at 1000, 3000, ..., 13000.
  const MemoryTimeline m = memory_timeline(trace, {.buckets = 7});
  EXPECT_EQ(m.start_ns, 1000u);
  EXPECT_EQ(m.end_ns, 15001u);
  EXPECT_EQ(m.events, 15u);
  for (uint32_t i = 0; i < 7; ++i) EXPECT_EQ(m.bucket_start(i), 1000u + 2000u * i);
  EXPECT_EQ(m.bucket_of(2999), 0u);
  EXPECT_EQ(m.bucket_of(3000), 1u);
  EXPECT_EQ(m.bucket_of(15000), 6u);

  ASSERT_EQ(m.tracks.size(), 2u);  // no samples, pools or GPU
  const TimelineTrack& heap = m.tracks[0];
  EXPECT_EQ(heap.name, "heap");
  EXPECT_TRUE(heap.stacked);
  EXPECT_EQ(heap.buckets, (std::vector<B>{{0, 100, 100},
                                          {50, 150, 50},
                                          {50, 50, 50},
                                          {50, 50, 50},
                                          {50, 250, 250},
                                          {200, 250, 200},
                                          {0, 200, 10}}));
  EXPECT_EQ(heap.max(), 250);
  const TimelineTrack& mmap = m.tracks[1];
  EXPECT_EQ(mmap.name, "mmap");
  EXPECT_EQ(mmap.buckets, (std::vector<B>{{0, 0, 0},
                                          {0, 0, 0},
                                          {0, 4096, 3072},
                                          {3072, 3072, 3072},
                                          {3072, 3072, 3072},
                                          {3072, 3072, 3072},
                                          {3072, 3072, 3072}}));
  EXPECT_EQ(m.stacked_top(), 50 + 4096);

  ASSERT_EQ(m.steps.size(), 2u);
  EXPECT_EQ(m.steps[0].start_ns, 7000u);
  EXPECT_EQ(m.steps[0].end_ns, 14000u);
  EXPECT_EQ(m.steps[0].id, 1);
  EXPECT_EQ(m.steps[0].label, "step 1");
  EXPECT_EQ(m.steps[1].start_ns, 14000u);
  EXPECT_EQ(m.steps[1].end_ns, 15000u);  // the last step lasts until the last event

  EXPECT_EQ(m.main_thread_id, 1);
  ASSERT_EQ(m.scopes.size(), 2u);
  ASSERT_EQ(m.scopes[0].size(), 1u);
  EXPECT_EQ(m.scopes[0][0].label, "forward");
  EXPECT_EQ(m.scopes[0][0].start_ns, 1000u);
  EXPECT_EQ(m.scopes[0][0].end_ns, 12000u);
  ASSERT_EQ(m.scopes[1].size(), 1u);
  EXPECT_EQ(m.scopes[1][0].label, "linear");
  EXPECT_EQ(m.scopes[1][0].id, 2);
  EXPECT_EQ(m.scopes[1][0].start_ns, 8000u);
  EXPECT_EQ(m.scopes[1][0].end_ns, 10000u);
}

TEST(MemoryTimeline, WindowStartsFromTheStateBeforeIt) {
  SyntheticTrace t("timeline_window");
  add_training_events(t);
  TraceFile trace(t.write());
  const MemoryTimeline m = memory_timeline(trace, {5000, 9000, 2});
  ASSERT_EQ(m.tracks.size(), 2u);
  EXPECT_EQ(m.tracks[0].buckets, (std::vector<B>{{50, 50, 50}, {50, 50, 50}}));
  EXPECT_EQ(m.tracks[1].buckets, (std::vector<B>{{0, 4096, 3072}, {3072, 3072, 3072}}));
  // Step 1 and "forward" run past the window: cut at its end.
  ASSERT_EQ(m.steps.size(), 1u);
  EXPECT_EQ(m.steps[0].start_ns, 7000u);
  EXPECT_EQ(m.steps[0].end_ns, 9000u);
  ASSERT_EQ(m.scopes[0].size(), 1u);
  EXPECT_EQ(m.scopes[0][0].start_ns, 5000u);
  EXPECT_EQ(m.scopes[0][0].end_ns, 9000u);
}

TEST(MemoryTimeline, ScopesNarrowerThanABucketMerge) {
  SyntheticTrace t("timeline_merge");
  t.sql(
      "INSERT INTO strings VALUES(1, 'tick');"
      "INSERT INTO scopes VALUES(1, 0, 1, 1, 'annotate');");
  for (int i = 0; i < 10; ++i) {
    t.add(EventKind::kScopeEnter, 0, 0, 1);
    t.add(EventKind::kScopeExit, 0, 0, 1);
  }
  TraceFile trace(t.write());
  const MemoryTimeline one = memory_timeline(trace, {.buckets = 1});
  ASSERT_EQ(one.scopes[0].size(), 1u);
  EXPECT_EQ(one.scopes[0][0].count, 10u);
  EXPECT_EQ(one.scopes[0][0].id, -1);
  EXPECT_EQ(one.scopes[0][0].label, "");
  EXPECT_EQ(one.scopes[0][0].start_ns, 1000u);
  EXPECT_EQ(one.scopes[0][0].end_ns, 20000u);
  // With 1000 ns buckets each scope is wide enough to stand alone.
  const MemoryTimeline fine = memory_timeline(trace, {1000, 21000, 20});
  ASSERT_EQ(fine.scopes[0].size(), 10u);
  EXPECT_EQ(fine.scopes[0][3].label, "tick");
  EXPECT_EQ(fine.scopes[0][3].start_ns, 7000u);
}

TEST(MemoryTimeline, PoolsAndGpuGetTracksOfTheirOwn) {
  SyntheticTrace t("timeline_pools");
  t.sql(
      "INSERT INTO strings VALUES(1, 'arena');"
      "INSERT INTO pools VALUES(1, 268435456, 1, 2);");
  const uint64_t gpu_aux = pack_gpu_aux({.device = 1, .api = GpuApi::kMemAlloc});
  t.add(EventKind::kMalloc, 0x10000000, 1 << 20);                   // 1000 backing
  t.add(EventKind::kPoolCreate, 0x10000000, 0, 1);                  // 2000
  t.add(EventKind::kPoolAlloc, 0x10000040, 1000, 1);                // 3000
  t.add(EventKind::kPoolAlloc, 0x10001000, 2000, 1);                // 4000
  t.add(EventKind::kCudaDevice, 0x7f0000000000, 1 << 24, gpu_aux);  // 5000
  t.add(EventKind::kPoolFree, 0x10000040, 1000, 1);                 // 6000
  t.add(EventKind::kCudaFree, 0x7f0000000000, 0, gpu_aux);          // 7000
  t.add(EventKind::kFree, 0x10000000, 0);                           // 8000
  TraceFile trace(t.write());
  const MemoryTimeline m = memory_timeline(trace, {1000, 9000, 4});
  std::vector<std::string> names;
  for (const TimelineTrack& track : m.tracks) names.push_back(track.name);
  EXPECT_EQ(names, (std::vector<std::string>{"heap", "mmap", "cuda:1 device", "pool reserve arena",
                                             "pool arena"}));
  const TimelineTrack* gpu = m.find("cuda:1 device");
  EXPECT_TRUE(gpu->stacked);
  EXPECT_EQ(gpu->device, 1);
  EXPECT_EQ(gpu->gpu_class, "device");
  EXPECT_EQ(gpu->buckets,
            (std::vector<B>{{0, 0, 0}, {0, 0, 0}, {0, 1 << 24, 1 << 24}, {0, 1 << 24, 0}}));
  const TimelineTrack* reserve = m.find("pool reserve arena");
  EXPECT_FALSE(reserve->stacked);
  // The backing block counts as the pool's reserve from the first
  // sub-allocation inside it (3000) until it is freed (8000).
  EXPECT_EQ(reserve->buckets,
            (std::vector<B>{
                {0, 0, 0}, {0, 1 << 20, 1 << 20}, {1 << 20, 1 << 20, 1 << 20}, {0, 1 << 20, 0}}));
  const TimelineTrack* used = m.find("pool arena");
  EXPECT_EQ(used->pool, 1);
  EXPECT_EQ(used->buckets,
            (std::vector<B>{{0, 0, 0}, {0, 3000, 3000}, {2000, 3000, 2000}, {2000, 2000, 2000}}));
  // The heap holds the backing block whole; sub-allocations are inside it.
  EXPECT_EQ(m.find("heap")->max(), 1 << 20);
}

TEST(LiveBlocksAt, TotalsMatchTheBucketThatEndsThere) {
  SyntheticTrace t("timeline_live");
  add_training_events(t);
  TraceFile trace(t.write());
  ensure_index(trace);
  const MemoryTimeline m = memory_timeline(trace, {.buckets = 7});
  // Bucket 4 is [9000, 11000): its last value is the state at 10999.
  const LiveBlocks live = live_blocks_at(trace, 10999);
  EXPECT_EQ(live.bytes("heap"), uint64_t(m.tracks[0].buckets[4].last));
  EXPECT_EQ(live.bytes("heap"), 250u);
  EXPECT_EQ(live.blocks_total, 2u);
  ASSERT_EQ(live.blocks.size(), 2u);
  EXPECT_EQ(live.blocks[0].size, 200u);
  EXPECT_EQ(live.blocks[0].kind, "new");
  EXPECT_EQ(live.blocks[0].memory, "heap");
  EXPECT_EQ(live.blocks[0].alloc_time_ns, 9000u);
  EXPECT_EQ(live.blocks[0].step, 1);
  EXPECT_EQ(live.blocks[1].size, 50u);
  EXPECT_EQ(live.blocks[1].step, -1);
  // A block freed at t is not live at t; one allocated at t is.
  EXPECT_EQ(live_blocks_at(trace, 11000).bytes("heap"), 200u);
  EXPECT_EQ(live_blocks_at(trace, 15000).bytes("heap"), 10u);
  EXPECT_EQ(live_blocks_at(trace, 1, 10).blocks_total, 0u);
  // The limit keeps the largest; the totals still count every block.
  const LiveBlocks one = live_blocks_at(trace, 10999, 1);
  EXPECT_EQ(one.blocks.size(), 1u);
  EXPECT_EQ(one.blocks_total, 2u);
}

}  // namespace
}  // namespace memtide::analysis
