// Fragmentation over time: how much memory the allocators hold beyond what
// the program asked for, and how the free space inside each extent (the glibc
// heap arena, each pool's backing blocks, each GPU segment of a caching
// allocator) is cut into holes, over time, at the heap peak and at the end.
// One pass over the events, in memory bounded by the blocks live at a time.
// The definitions are in docs/reports.md ("Fragmentation").
//
//   analysis::TraceFile trace("run.db");
//   analysis::FragmentationReport r = analysis::analyze_fragmentation(trace, {});
//   // r.states[0] is the heap peak, r.states[1] the end; r.overhead one point per sample.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

// Which moments get a detailed state (extents, holes, pinning blocks).
struct FragmentationMoments {
  bool peak = true;                 // the high-water mark of live heap bytes
  bool end = true;                  // after the last event
  std::optional<uint64_t> time_ns;  // after every event up to this time
  std::string mark;                 // at the first marker of this name
};

struct FragmentationOptions {
  FragmentationMoments moments;
  size_t series_points = 100;  // sample times (at most this many) with a fragmentation point
  size_t top_pinning = 5;      // blocks that pin the most free space, per state and per extent
  // Detailed states also list every live block of every extent (Extent::blocks):
  // the map of an extent. Costs memory in the live blocks of each state.
  bool extent_blocks = false;
  std::vector<std::string> search_paths;
  std::string sysroot;
};

// Free space inside one or more extents. Bytes of a block are its footprint:
// the glibc chunk for a heap arena block, the requested size for a pool
// sub-allocation.
struct HoleStats {
  uint64_t extents = 0;
  uint64_t live_blocks = 0;
  uint64_t used_bytes = 0;  // footprints of the live blocks
  uint64_t span_bytes = 0;  // bytes the extents cover: used + free
  uint64_t holes = 0;
  uint64_t free_bytes = 0;    // in holes
  uint64_t largest_hole = 0;  // bytes
  // 1 - largest_hole / free_bytes: 0 when the free space is one hole (or none),
  // near 1 when it is crumbs no large request could use.
  double fragmentation() const {
    return free_bytes ? 1.0 - double(largest_hole) / double(free_bytes) : 0.0;
  }
  void add(const HoleStats& other);
};

// A live block of one extent with the holes on either side of it (a hole
// runs to the next block, or to the edge of a segment).
struct ExtentBlock {
  uint64_t address = 0, size = 0, footprint = 0;
  uint64_t hole_before = 0, hole_after = 0;
  uint64_t merged_hole() const { return hole_before + footprint + hole_after; }
  uint64_t alloc_time_ns = 0;
  uint32_t stack = 0, scope = 0;
  int64_t pool = -1;  // the pool of a sub-allocation
  // Its place among the extent's pinning blocks by merged hole (0: freeing it
  // merges the largest hole; ties to the lower address), for the extent's
  // first FragmentationOptions::top_pinning; -1 otherwise.
  int pinning_rank = -1;
  std::string scope_path;
  // The innermost frame of its stack outside memtide's annotate API.
  std::optional<ReportFrame> top_frame;
};

struct Extent {
  std::string kind;  // "heap arena", "pool segment", "gpu segment", "pool span"
  uint64_t start = 0, end = 0;
  HoleStats holes;
  uint64_t trailing_free_bytes = 0;  // segments: free bytes after the last live block
  std::vector<ExtentBlock> blocks;   // by address, with FragmentationOptions::extent_blocks
};

// A live block between holes: freeing it would merge them.
struct PinningBlock {
  std::string extent;  // kind of the extent it sits in
  int64_t pool = -1;   // the pool of a sub-allocation
  uint64_t address = 0, size = 0, footprint = 0;
  uint64_t hole_before = 0, hole_after = 0;
  uint64_t merged_hole() const { return hole_before + footprint + hole_after; }
  uint64_t alloc_time_ns = 0;
  uint32_t stack = 0, scope = 0;
  std::string scope_path;
  std::vector<ReportFrame> frames;  // innermost first
};

struct PoolLayout {
  int64_t id = 0;
  std::string name;
  uint64_t handle = 0;
  // Where its sub-allocations live: "heap", "mmap", "cuda:N", "span" (no
  // backing block seen: the span of its sub-allocations stands in for it),
  // or "none" (no live sub-allocation and no live backing).
  std::string backing = "none";
  uint64_t reserved_bytes = 0;  // live backing blocks, plus the span of unbacked sub-allocations
  uint64_t in_use_bytes = 0;    // live sub-allocations
  uint64_t live_blocks = 0;
  uint64_t segments = 0, free_segments = 0;
  uint64_t free_segment_bytes = 0;   // segments with no live sub-allocation
  uint64_t trailing_free_bytes = 0;  // after the last live sub-allocation of the other segments
  uint64_t releasable_bytes() const { return free_segment_bytes + trailing_free_bytes; }
  HoleStats holes;
  std::vector<Extent> extents;  // detailed states only
};

struct FragmentationState {
  std::string label;  // "peak", "end", "at 123 ns", "at mark NAME"
  uint64_t time_ns = 0, seq = 0;
  uint64_t live_heap_bytes = 0;  // requested bytes of live heap blocks
  HoleStats heap_arena;          // every arena extent together
  std::vector<Extent> arena_extents;
  uint64_t mmapped_chunks = 0, mmapped_bytes = 0;  // large heap blocks glibc maps on their own
  std::vector<PoolLayout> pools;
  std::vector<PinningBlock> pinning;  // largest merged hole first
};

// One point per row of the samples table.
struct OverheadPoint {
  uint64_t time_ns = 0;
  uint64_t live_heap_bytes = 0;    // requested, from the replay of the events up to time_ns
  uint64_t live_usable_bytes = 0;  // samples.live_heap_bytes (malloc_usable_size)
  uint64_t rss_bytes = 0;
  std::optional<uint64_t> arena_bytes, mmapped_bytes;  // mallinfo2 arena, hblkhd
  // (arena + hblkhd) / live requested heap bytes; absent without mallinfo2 or live bytes.
  std::optional<double> heap_ratio;
  std::optional<double> rss_ratio;  // RSS / live requested heap bytes
};

// The fragmentation at one sample time (no extents or pinning blocks).
struct FragmentationPoint {
  uint64_t time_ns = 0;
  HoleStats heap_arena;
  uint64_t mmapped_chunks = 0, mmapped_bytes = 0;
  std::vector<PoolLayout> pools;
};

struct PoolTotals {
  int64_t id = 0;
  std::string name;
  uint64_t handle = 0;
  uint64_t peak_in_use_bytes = 0;
  uint64_t peak_segment_bytes = 0;  // backing blocks seen holding its sub-allocations
  uint64_t allocations = 0;
  bool destroyed = false;
};

struct FragmentationReport {
  std::string trace_path;
  uint64_t events = 0;
  uint64_t peak_heap_bytes = 0, peak_time_ns = 0, peak_seq = 0;
  std::vector<OverheadPoint> overhead;
  std::optional<size_t> overhead_at_peak;  // index into `overhead`
  std::vector<FragmentationPoint> series;
  std::vector<FragmentationState> states;  // in the order: at time, at mark, peak, end
  bool mark_found = false;
  bool extent_blocks = false;  // the states' extents list their blocks
  std::vector<PoolTotals> pools;
  std::vector<std::string> missing_modules;
};

// Throws TraceError for an unreadable trace.
FragmentationReport analyze_fragmentation(const TraceFile& trace,
                                          const FragmentationOptions& options);

std::string format_fragmentation_text(const FragmentationReport& report);
std::string format_fragmentation_json(const FragmentationReport& report);

}  // namespace memtide::analysis
