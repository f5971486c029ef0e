// Memory over time, bucketed for drawing (memtide-gui's timeline): live bytes
// per track (heap, mappings, each GPU device and memory class, each pool's
// reserve and use) with the lowest, highest and last value of every bucket,
// so a run of millions of events drawn on a thousand pixels still shows
// every spike; the sampled RSS and the driver's GPU use beside them; the
// training steps and the scopes of the main thread as intervals, those
// shorter than a bucket merged. Memory is bounded by tracks x buckets (and
// the blocks live at any one time), never by the number of events.
//
// Live bytes are the index's blocks (block_replay.h): the heap track follows
// exactly the blocks `memtide index` and `memtide peak` count, so its
// highest value over a whole-run series is the host peak.
//
//   TraceFile trace("run.db");
//   MemoryTimeline whole = memory_timeline(trace, {.buckets = 16384});
//   MemoryTimeline zoomed = memory_timeline(trace, {t0, t1, 2000});
//
// Every live value of a bucket is after all events with a time inside it;
// a bucket with no event repeats the value before it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct TimelineRequest {
  // Absolute trace times, half open; 0 and 0 mean the whole run.
  uint64_t start_ns = 0, end_ns = 0;
  uint32_t buckets = 4096;
};

enum class TrackKind {
  kHeap,         // live heap blocks, requested bytes (pool backing included)
  kMmap,         // bytes mapped by the program's mmap/mremap
  kGpu,          // one GPU device and memory class
  kPoolReserve,  // the blocks backing one pool (inside the heap or a GPU track)
  kPoolUsed,     // one pool's live sub-allocations (inside its reserve)
  kRss,          // sampled resident set size
  kGpuDriver,    // sampled driver-reported used memory of one device
};

struct TimelineBucket {
  int64_t min = 0, max = 0, last = 0;
  bool operator==(const TimelineBucket&) const = default;
};

struct TimelineTrack {
  std::string name;  // "heap", "mmap", "cuda:0 device", "pool NAME reserve", "rss", ...
  TrackKind kind = TrackKind::kHeap;
  int device = -1;        // GPU tracks
  std::string gpu_class;  // "device", "managed", "pinned", "async", ...
  int64_t pool = -1;      // pool tracks
  // Stacked tracks add up to memory the process holds (heap, mmap, GPU);
  // the others are drawn as lines (inside a stacked track, or measured).
  bool stacked = false;
  std::vector<TimelineBucket> buckets;
  int64_t max() const;  // over all buckets; 0 when none
};

// A run of time on a band: one step, one scope, or several merged.
struct TimelineInterval {
  uint64_t start_ns = 0, end_ns = 0;
  int64_t id = 0;      // step number, or scope id; -1 for merged intervals
  uint32_t count = 1;  // intervals merged into this one
  std::string label;   // "step 3", the scope's name; "" when merged
};

struct MemoryTimeline {
  uint64_t start_ns = 0, end_ns = 0;  // the range bucketed
  uint32_t bucket_count = 0;
  std::vector<TimelineTrack> tracks;  // stacked ones first, in drawing order
  std::vector<TimelineInterval> steps;
  // Scopes the main thread was in, one vector per depth (1 = top level),
  // at most two levels.
  std::vector<std::vector<TimelineInterval>> scopes;
  int64_t main_thread_id = 0;
  uint64_t events = 0;  // events replayed

  // Bucket i covers [bucket_start(i), bucket_start(i + 1)).
  uint64_t bucket_start(uint32_t i) const;
  // The bucket holding `t`; clamped into the range.
  uint32_t bucket_of(uint64_t t) const;
  // The top of the stacked chart: the highest sum over a bucket of the
  // stacked tracks' maxima (an upper bound of the total at any moment, as
  // the maxima need not coincide), for the vertical scale.
  int64_t stacked_top() const;
  const TimelineTrack* find(const std::string& name) const;
};

// Replays the trace's events (up to the end of the range) into buckets.
// Honors the trace's ScanControl. Throws TraceError.
MemoryTimeline memory_timeline(const TraceFile& trace, const TimelineRequest& request);

// Blocks live at a moment (after every event at or before `time_ns`), from
// the allocation index (ensure_index must have run): the largest first.
struct LiveBlock {
  int64_t id = 0;
  uint64_t size = 0;
  std::string kind;    // event kind that made it: "malloc", "new", "cuda_device", ...
  std::string memory;  // "heap", "pool NAME", "cuda:0 device", ...
  int device = -1;
  std::string scope;  // path; "" outside every scope
  uint32_t stack = 0;
  int64_t step = -1;
  int64_t thread_id = 0;
  uint64_t alloc_time_ns = 0;
};

struct LiveTotal {
  std::string memory;  // as LiveBlock::memory; heap totals under "heap"
  uint64_t blocks = 0, bytes = 0;
};

struct LiveBlocks {
  uint64_t time_ns = 0;
  std::vector<LiveBlock> blocks;  // at most `limit`, largest first
  std::vector<LiveTotal> totals;  // every live block counted, by memory
  uint64_t blocks_total = 0;      // all live blocks, shown or not
  uint64_t bytes(const std::string& memory) const;
};

LiveBlocks live_blocks_at(const TraceFile& trace, uint64_t time_ns, size_t limit = 1000);

}  // namespace memtide::analysis
