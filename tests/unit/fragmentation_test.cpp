// The fragmentation replay on hand-made events with exactly known layouts:
// GPU segments of a caching allocator, a pool over a mapping that is partly
// unmapped, a pool whose backing the trace never shows, the heap arena's
// extents and mapped chunks, the peak's state recovered by undoing, and the
// block-by-block map of each extent at a chosen time.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fragmentation_replay.h"
#include "memtide_common/gpu_event.h"
#include "synthetic_trace.h"

namespace memtide::analysis {
namespace {

class Replay {
 public:
  explicit Replay(FragmentationOptions options = {}, std::vector<SampleRow> samples = {})
      : options_(std::move(options)), replay_(options_, std::move(samples), 0, report_) {}

  void add(EventKind kind, uint64_t address, uint64_t size, uint64_t aux = 0) {
    EventRecord e{};
    e.seq = ++seq_;
    e.time_ns = 1000 * e.seq;
    e.kind = kind;
    e.address = address;
    e.size = size;
    e.aux = aux;
    e.stack = uint32_t(seq_);
    replay_.event(e);
  }
  const FragmentationReport& finish() {
    replay_.finish();
    return report_;
  }
  uint64_t seq() const { return seq_; }

 private:
  FragmentationOptions options_;
  FragmentationReport report_;
  FragmentationReplay replay_;
  uint64_t seq_ = 0;
};

const FragmentationState& state(const FragmentationReport& r, const std::string& label) {
  for (const FragmentationState& s : r.states)
    if (s.label == label) return s;
  throw std::runtime_error("no state " + label);
}

const PoolLayout& pool(const FragmentationState& s, int64_t id) {
  for (const PoolLayout& p : s.pools)
    if (p.id == id) return p;
  throw std::runtime_error("no pool " + std::to_string(id));
}

uint64_t device_aux(uint32_t device) {
  GpuAux a;
  a.device = device;
  a.api = GpuApi::kMemAlloc;
  return pack_gpu_aux(a);
}

TEST(Fragmentation, GpuSegmentsOfACachingAllocator) {
  constexpr uint64_t kSegment = 2 << 20, kA = 0x7f0000000000, kB = 0x7f0000400000;
  Replay r;
  r.add(EventKind::kPoolCreate, 0x1234, 0, 1);
  r.add(EventKind::kCudaDevice, kA, kSegment, device_aux(0));
  r.add(EventKind::kCudaDevice, kB, kSegment, device_aux(0));
  r.add(EventKind::kPoolAlloc, kA, 512, 1);
  r.add(EventKind::kPoolAlloc, kA + 1024, 512, 1);
  r.add(EventKind::kPoolAlloc, kA + 4096, 1024, 1);
  r.add(EventKind::kPoolAlloc, kB, 4096, 1);  // makes kB a segment, then leaves it empty
  r.add(EventKind::kPoolFree, kB, 4096, 1);
  const FragmentationReport& report = r.finish();
  const PoolLayout& p = pool(state(report, "end"), 1);
  EXPECT_EQ(p.backing, "cuda:0");
  EXPECT_EQ(p.segments, 2u);
  EXPECT_EQ(p.reserved_bytes, 2 * kSegment);
  EXPECT_EQ(p.in_use_bytes, 2048u);
  EXPECT_EQ(p.live_blocks, 3u);
  // Holes in kA: 512 after the first block, 2560 before the third, and the
  // rest of the segment; kB is one free segment.
  const uint64_t trailing = kSegment - 5120;
  EXPECT_EQ(p.holes.holes, 4u);
  EXPECT_EQ(p.holes.free_bytes, 512 + 2560 + trailing + kSegment);
  EXPECT_EQ(p.holes.largest_hole, kSegment);
  EXPECT_EQ(p.free_segments, 1u);
  EXPECT_EQ(p.free_segment_bytes, kSegment);
  EXPECT_EQ(p.trailing_free_bytes, trailing);
  EXPECT_EQ(p.releasable_bytes(), kSegment + trailing);
  ASSERT_EQ(p.extents.size(), 2u);
  EXPECT_EQ(p.extents[0].kind, "gpu segment");
  EXPECT_EQ(p.extents[0].holes.span_bytes, kSegment);
  EXPECT_EQ(p.extents[0].holes.used_bytes, 2048u);
  // The middle block parts 512 and 2560 bytes of free space.
  const FragmentationState& end = state(report, "end");
  ASSERT_FALSE(end.pinning.empty());
  EXPECT_EQ(end.pinning[0].address, kA + 4096);  // 2560 + 1024 + the trailing space
  EXPECT_EQ(end.pinning[0].merged_hole(), 2560 + 1024 + trailing);
  ASSERT_EQ(report.pools.size(), 1u);
  EXPECT_EQ(report.pools[0].peak_segment_bytes, 2 * kSegment);
  EXPECT_EQ(report.pools[0].peak_in_use_bytes, 2048u + 4096u);
}

TEST(Fragmentation, PoolOverAMappingFollowsPartialUnmaps) {
  constexpr uint64_t kMap = 0x7e0000000000, kLength = 1 << 20;
  Replay r;
  r.add(EventKind::kMmap, kMap, kLength);
  r.add(EventKind::kPoolAlloc, kMap, 4096, 2);
  r.add(EventKind::kMunmap, kMap + kLength / 2, kLength / 2);
  const PoolLayout& p = pool(state(r.finish(), "end"), 2);
  EXPECT_EQ(p.backing, "mmap");
  EXPECT_EQ(p.reserved_bytes, kLength / 2);
  EXPECT_EQ(p.trailing_free_bytes, kLength / 2 - 4096);
  EXPECT_EQ(p.holes.fragmentation(), 0.0);
}

TEST(Fragmentation, PoolWithoutBackingSpansItsSubAllocations) {
  Replay r;
  r.add(EventKind::kPoolAlloc, 0x5000, 100, 3);
  r.add(EventKind::kPoolAlloc, 0x5100, 100, 3);
  r.add(EventKind::kPoolAlloc, 0x5200, 56, 3);
  const PoolLayout& p = pool(state(r.finish(), "end"), 3);
  EXPECT_EQ(p.backing, "span");
  EXPECT_EQ(p.reserved_bytes, 0x5238u - 0x5000u);
  EXPECT_EQ(p.holes.holes, 2u);
  EXPECT_EQ(p.holes.free_bytes, 2 * (0x100u - 100u));
  EXPECT_DOUBLE_EQ(p.holes.fragmentation(), 0.5);
  EXPECT_EQ(p.trailing_free_bytes, 0u);
}

TEST(Fragmentation, ArenaExtentsSplitFarApartAndMappedChunksStandAlone) {
  constexpr uint64_t kBrk = 0x555500000000, kThread = 0x7f1000000000;
  Replay r;
  r.add(EventKind::kMalloc, kBrk, 24);          // chunk 32
  r.add(EventKind::kMalloc, kBrk + 32, 1000);   // adjacent: no hole
  r.add(EventKind::kMalloc, kBrk + 2048, 100);  // 2048 - 32 - 1008 = 1008 free before it
  r.add(EventKind::kMalloc, kThread + 0xc20, 500);
  r.add(EventKind::kMalloc, 0x7f2000000010, 300000);  // page + 16: mapped
  r.add(EventKind::kMalloc, kBrk + 4096, 200000);     // in the arena, past the threshold
  const FragmentationState& s = state(r.finish(), "end");
  ASSERT_EQ(s.arena_extents.size(), 2u);
  EXPECT_EQ(s.arena_extents[0].start, kBrk);
  EXPECT_EQ(s.arena_extents[0].holes.live_blocks, 4u);
  EXPECT_EQ(s.arena_extents[0].holes.holes, 2u);
  // 1008 before the third block; 4096 - 2048 - 112 before the fourth.
  EXPECT_EQ(s.arena_extents[0].holes.free_bytes, 1008u + 4096u - 2048u - 112u);
  EXPECT_EQ(s.arena_extents[1].holes.live_blocks, 1u);
  EXPECT_EQ(s.mmapped_chunks, 1u);
  EXPECT_EQ(s.mmapped_bytes, 303104u);  // 300016 + 8 header, in pages
  EXPECT_EQ(s.heap_arena.extents, 2u);
}

// The peak's layout, whether the changes after it were few (undone at the
// end) or many (the state taken once the log outgrew the live set).
void expect_peak_layout(size_t churn_after_peak) {
  Replay r;
  for (uint64_t i = 0; i < 8; ++i) r.add(EventKind::kMalloc, 0x1000 + i * 64, 40);
  const uint64_t peak_seq = r.seq();
  for (uint64_t i = 0; i < 8; i += 2) r.add(EventKind::kFree, 0x1000 + i * 64, 0);
  for (size_t i = 0; i < churn_after_peak; ++i) {
    r.add(EventKind::kMalloc, 0x9000, 16);
    r.add(EventKind::kFree, 0x9000, 0);
  }
  const FragmentationReport& report = r.finish();
  EXPECT_EQ(report.peak_seq, peak_seq);
  EXPECT_EQ(report.peak_heap_bytes, 8 * 40u);
  const FragmentationState& peak = state(report, "peak");
  EXPECT_EQ(peak.seq, peak_seq);
  EXPECT_EQ(peak.heap_arena.live_blocks, 8u);
  EXPECT_EQ(peak.heap_arena.holes, 7u);  // 64 - chunk(40) = 16 bytes between each
  EXPECT_EQ(peak.heap_arena.free_bytes, 7 * 16u);
  const FragmentationState& end = state(report, "end");
  EXPECT_EQ(end.heap_arena.live_blocks, 4u);
  EXPECT_EQ(end.heap_arena.free_bytes, 3 * (128u - 48u));
}

TEST(Fragmentation, PeakStateAfterFewChanges) {
  expect_peak_layout(10);
}

TEST(Fragmentation, PeakStateAfterMoreChangesThanTheLogKeeps) {
  expect_peak_layout(20000);
}

TEST(Fragmentation, OneOverheadPointPerSampleAndEvenlySpreadSeries) {
  std::vector<SampleRow> samples;
  for (uint64_t i = 0; i < 10; ++i) {
    SampleRow s;
    s.time_ns = 1000 * (2 * i + 1) + 500;  // after event 2i + 1
    s.rss_bytes = 1 << 20;
    if (i != 3) s.arena_bytes = 4096, s.mmapped_bytes = 0;
    samples.push_back(s);
  }
  FragmentationOptions options;
  options.series_points = 4;
  Replay r(options, samples);
  for (uint64_t i = 0; i < 10; ++i) {
    r.add(EventKind::kMalloc, 0x1000 + i * 0x100, 1024);
    r.add(EventKind::kCalloc, 0x8000 + i * 0x100, 0);  // nothing requested: no bytes
  }
  const FragmentationReport& report = r.finish();
  ASSERT_EQ(report.overhead.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(report.overhead[i].live_heap_bytes, 1024 * (i + 1)) << i;
    EXPECT_EQ(report.overhead[i].heap_ratio.has_value(), i != 3) << i;
  }
  EXPECT_DOUBLE_EQ(*report.overhead[0].heap_ratio, 4.0);
  EXPECT_DOUBLE_EQ(*report.overhead[0].rss_ratio, 1024.0);
  ASSERT_EQ(report.series.size(), 4u);
  EXPECT_EQ(report.series[0].time_ns, samples[0].time_ns);
  EXPECT_EQ(report.series[3].time_ns, samples[9].time_ns);
}

// The map of one GPU segment: each block with the holes beside it, and the
// blocks ranked by the hole their freeing would merge.
TEST(FragmentationExtentBlocks, SegmentBlocksHolesAndPinningRanks) {
  constexpr uint64_t kSegment = 2 << 20, kA = 0x7f0000000000;
  FragmentationOptions options;
  options.extent_blocks = true;
  options.top_pinning = 2;
  Replay r(options);
  r.add(EventKind::kCudaDevice, kA, kSegment, device_aux(0));
  r.add(EventKind::kPoolAlloc, kA, 512, 1);
  r.add(EventKind::kPoolAlloc, kA + 1024, 512, 1);
  r.add(EventKind::kPoolAlloc, kA + 4096, 1024, 1);
  const FragmentationReport& report = r.finish();
  const PoolLayout& p = pool(state(report, "end"), 1);
  ASSERT_EQ(p.extents.size(), 1u);
  const Extent& e = p.extents[0];
  EXPECT_EQ(e.kind, "gpu segment");
  const uint64_t trailing = kSegment - 5120;
  ASSERT_EQ(e.blocks.size(), 3u);
  const ExtentBlock& a = e.blocks[0];
  const ExtentBlock& b = e.blocks[1];
  const ExtentBlock& c = e.blocks[2];
  EXPECT_EQ(a.address, kA);
  EXPECT_EQ(a.footprint, 512u);
  EXPECT_EQ(a.hole_before, 0u);
  EXPECT_EQ(a.hole_after, 512u);
  EXPECT_EQ(b.address, kA + 1024);
  EXPECT_EQ(b.hole_before, 512u);
  EXPECT_EQ(b.hole_after, 2560u);
  EXPECT_EQ(c.address, kA + 4096);
  EXPECT_EQ(c.size, 1024u);
  EXPECT_EQ(c.hole_before, 2560u);
  EXPECT_EQ(c.hole_after, trailing);
  EXPECT_EQ(c.pool, 1);
  EXPECT_EQ(c.stack, 4u);  // the helper's stack id is the event's sequence number
  EXPECT_EQ(c.alloc_time_ns, 4000u);
  // Merged holes: 1024, 3584 and 2560 + 1024 + trailing; only two are ranked.
  EXPECT_EQ(c.pinning_rank, 0);
  EXPECT_EQ(b.pinning_rank, 1);
  EXPECT_EQ(a.pinning_rank, -1);
  EXPECT_EQ(c.merged_hole(), state(report, "end").pinning[0].merged_hole());
  EXPECT_EQ(e.holes.largest_hole, trailing);
  EXPECT_EQ(e.holes.free_bytes, 512 + 2560 + trailing);
}

// Arena blocks take glibc chunks: adjacent chunks leave no hole; the arena
// ends with its last block; a block with no hole beside it pins nothing.
TEST(FragmentationExtentBlocks, ArenaBlocksUseChunkFootprints) {
  constexpr uint64_t kBrk = 0x555500000000;
  FragmentationOptions options;
  options.extent_blocks = true;
  Replay r(options);
  r.add(EventKind::kMalloc, kBrk, 100);        // chunk 112
  r.add(EventKind::kMalloc, kBrk + 112, 100);  // adjacent
  r.add(EventKind::kMalloc, kBrk + 1024, 24);  // 1024 - 224 = 800 free before it
  const FragmentationState& s = state(r.finish(), "end");
  ASSERT_EQ(s.arena_extents.size(), 1u);
  const Extent& e = s.arena_extents[0];
  ASSERT_EQ(e.blocks.size(), 3u);
  EXPECT_EQ(e.end, kBrk + 1024 + 32);
  EXPECT_EQ(e.blocks[0].footprint, 112u);
  EXPECT_EQ(e.blocks[0].pinning_rank, -1);
  EXPECT_EQ(e.blocks[1].hole_after, 800u);
  EXPECT_EQ(e.blocks[1].pinning_rank, 0);  // 800 + 112
  EXPECT_EQ(e.blocks[2].footprint, 32u);
  EXPECT_EQ(e.blocks[2].hole_before, 800u);
  EXPECT_EQ(e.blocks[2].hole_after, 0u);
  EXPECT_EQ(e.blocks[2].pinning_rank, 1);  // 800 + 32
}

// At a chosen time the map holds the blocks live then, not later ones.
TEST(FragmentationExtentBlocks, AtATimeOnlyTheBlocksLiveThen) {
  FragmentationOptions options;
  options.extent_blocks = true;
  options.moments = {false, false, 3500, ""};
  Replay r(options);
  r.add(EventKind::kPoolAlloc, 0x5000, 100, 3);
  r.add(EventKind::kPoolAlloc, 0x5100, 100, 3);
  r.add(EventKind::kPoolFree, 0x5000, 0, 3);    // at 3000 ns
  r.add(EventKind::kPoolAlloc, 0x5200, 56, 3);  // at 4000 ns: after the moment
  const FragmentationReport& report = r.finish();
  ASSERT_EQ(report.states.size(), 1u);
  EXPECT_EQ(report.states[0].time_ns, 3500u);
  const PoolLayout& p = pool(report.states[0], 3);
  ASSERT_EQ(p.extents.size(), 1u);
  ASSERT_EQ(p.extents[0].blocks.size(), 1u);
  EXPECT_EQ(p.extents[0].blocks[0].address, 0x5100u);
  EXPECT_EQ(p.extents[0].start, 0x5100u);  // a span starts at its first live block
}

// Through the trace: the blocks reach the JSON the CLI prints with --blocks,
// symbolized (the stack's innermost frame), and only when asked for.
TEST(FragmentationExtentBlocks, JsonListsTheBlocksOfEachExtent) {
  test::SyntheticTrace t("frag_blocks");
  t.sql("INSERT INTO stack_nodes VALUES(1, 0, 4096);");
  t.add(EventKind::kMalloc, 0x10000, 100, 0, 1);
  t.add(EventKind::kMalloc, 0x10400, 100, 0, 1);
  const TraceFile trace(t.write());
  FragmentationOptions options;
  options.moments = {false, true, std::nullopt, ""};
  options.extent_blocks = true;
  const nlohmann::json j =
      nlohmann::json::parse(format_fragmentation_json(analyze_fragmentation(trace, options)));
  ASSERT_EQ(j["states"].size(), 1u);
  const nlohmann::json& extent = j["states"][0]["arena_extents"][0];
  ASSERT_EQ(extent["blocks"].size(), 2u);
  EXPECT_EQ(extent["blocks"][0]["address"], 0x10000u);
  EXPECT_EQ(extent["blocks"][0]["hole_after"], 0x400u - 112u);
  EXPECT_EQ(extent["blocks"][0]["pinning_rank"], 0);
  EXPECT_EQ(extent["blocks"][1]["pinning_rank"], 1);
  EXPECT_EQ(extent["blocks"][1]["top_frame"]["module_offset"], 4095u);

  options.extent_blocks = false;
  const nlohmann::json without =
      nlohmann::json::parse(format_fragmentation_json(analyze_fragmentation(trace, options)));
  EXPECT_FALSE(without["states"][0]["arena_extents"][0].contains("blocks"));
}

}  // namespace
}  // namespace memtide::analysis
