// Reads the holes out of a LiveLayout at one moment: the heap arena's
// extents (glibc chunks of the live arena blocks, split where blocks lie more
// than a heap's maximum size apart), the mapped chunks, each pool's segments
// (the backing blocks that hold its sub-allocations, holes counted up to the
// segment's edges) or, for a pool whose backing the trace never showed, the
// span of its sub-allocations; and the blocks whose freeing would merge the
// largest holes. O(live blocks) per call.
#pragma once

#include <cstddef>

#include "live_layout.h"
#include "memtide/analysis/fragmentation.h"

namespace memtide::analysis {

struct LayoutWalkResult {
  HoleStats heap_arena;
  std::vector<Extent> arena_extents;  // when detailed
  uint64_t mmapped_chunks = 0, mmapped_bytes = 0;
  std::vector<PoolLayout> pools;      // by id; extents when detailed
  std::vector<PinningBlock> pinning;  // when detailed: largest merged hole first
};

struct WalkDetail {
  bool detailed = false;       // also list the extents and the `top_pinning` pinning blocks
  size_t top_pinning = 0;      // of the whole layout, and ranked in each extent's blocks
  bool extent_blocks = false;  // detailed: every extent lists its blocks
};

LayoutWalkResult walk_layout(const LiveLayout& layout, const WalkDetail& detail);

}  // namespace memtide::analysis
