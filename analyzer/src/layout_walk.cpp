#include "layout_walk.h"

#include <algorithm>
#include <map>
#include <string>

#include "glibc_chunks.h"

namespace memtide::analysis {

namespace {

// The `limit` blocks with the largest merged hole, largest first; of equal
// holes the lowest address (the first seen) stays.
class TopPinning {
 public:
  explicit TopPinning(size_t limit) : limit_(limit) {}

  void offer(const PinningBlock& b) {
    if (limit_ == 0 || b.hole_before + b.hole_after == 0) return;
    if (top_.size() == limit_ && b.merged_hole() <= top_.back().merged_hole()) return;
    auto at = std::upper_bound(top_.begin(), top_.end(), b, [](const auto& x, const auto& y) {
      return x.merged_hole() > y.merged_hole();
    });
    top_.insert(at, b);
    if (top_.size() > limit_) top_.pop_back();
  }
  std::vector<PinningBlock> take() { return std::move(top_); }

 private:
  size_t limit_;
  std::vector<PinningBlock> top_;
};

void add_hole(HoleStats& s, uint64_t bytes) {
  if (bytes == 0) return;
  ++s.holes;
  s.free_bytes += bytes;
  s.largest_hole = std::max(s.largest_hole, bytes);
}

PinningBlock pinning_block(const char* extent, uint64_t address, const LiveBlock& b,
                           uint64_t footprint, uint64_t hole_before, bool sub_allocation) {
  PinningBlock p;
  p.extent = extent;
  p.pool = sub_allocation ? b.pool : -1;
  p.address = address;
  p.size = b.size;
  p.footprint = footprint;
  p.hole_before = hole_before;
  p.alloc_time_ns = b.time_ns;
  p.stack = b.stack;
  p.scope = b.scope;
  return p;
}

ExtentBlock extent_block(uint64_t address, const LiveBlock& b, uint64_t footprint,
                         uint64_t hole_before, bool sub_allocation) {
  ExtentBlock e;
  e.address = address;
  e.size = b.size;
  e.footprint = footprint;
  e.hole_before = hole_before;
  e.alloc_time_ns = b.time_ns;
  e.stack = b.stack;
  e.scope = b.scope;
  e.pool = sub_allocation ? b.pool : -1;
  return e;
}

// The same order as TopPinning: largest merged hole first, the lower
// address first among equals; blocks without a hole beside them pin nothing.
void rank_pinning(std::vector<ExtentBlock>& blocks, size_t top) {
  std::vector<size_t> order;
  for (size_t i = 0; i < blocks.size(); ++i)
    if (blocks[i].hole_before + blocks[i].hole_after > 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return blocks[x].merged_hole() > blocks[y].merged_hole();
  });
  for (size_t rank = 0; rank < order.size() && rank < top; ++rank)
    blocks[order[rank]].pinning_rank = int(rank);
}

// Blocks laid one after another in one extent: holes between them (and, for
// a segment, up to its edges), and each block's holes on both sides.
class ExtentScan {
 public:
  // `list_blocks`: keep every block (Extent::blocks), the first `top_pinning`
  // of them by merged hole ranked.
  ExtentScan(const char* kind, uint64_t start, TopPinning* pinning, bool list_blocks = false,
             size_t top_pinning = 0)
      : pinning_(pinning), list_blocks_(list_blocks), top_pinning_(top_pinning) {
    extent_.kind = kind;
    extent_.start = start;
    extent_.holes.extents = 1;
    end_ = start;
  }

  uint64_t end() const { return end_; }

  void block(uint64_t address, const LiveBlock& b, uint64_t footprint, bool sub_allocation) {
    // A block that starts inside the previous one's footprint means the
    // model's chunk size is off (another allocator): no hole there.
    const uint64_t hole = address > end_ ? address - end_ : 0;
    add_hole(extent_.holes, hole);
    release_pending(hole);
    if (pinning_ != nullptr)
      pending_ = pinning_block(extent_.kind.c_str(), address, b, footprint, hole, sub_allocation);
    if (list_blocks_)
      extent_.blocks.push_back(extent_block(address, b, footprint, hole, sub_allocation));
    has_pending_ = true;
    ++extent_.holes.live_blocks;
    extent_.holes.used_bytes += footprint;
    end_ = std::max(end_, address + footprint);
  }

  // `limit`: the extent's known end (a segment), or 0 for an extent that ends
  // with its last block (the arena: glibc's top chunk is not in the trace).
  Extent close(uint64_t limit) {
    uint64_t trailing = 0;
    if (limit > end_) {
      trailing = limit - end_;
      add_hole(extent_.holes, trailing);
      end_ = limit;
    }
    release_pending(trailing);
    extent_.trailing_free_bytes = extent_.holes.live_blocks ? trailing : 0;
    extent_.end = end_;
    extent_.holes.span_bytes = end_ - extent_.start;
    if (list_blocks_) rank_pinning(extent_.blocks, top_pinning_);
    return extent_;
  }

 private:
  void release_pending(uint64_t hole_after) {
    if (!has_pending_) return;
    has_pending_ = false;
    if (list_blocks_) extent_.blocks.back().hole_after = hole_after;
    if (pinning_ == nullptr) return;
    pending_.hole_after = hole_after;
    pinning_->offer(pending_);
  }

  TopPinning* pinning_;
  bool list_blocks_;
  size_t top_pinning_;
  Extent extent_;
  uint64_t end_;
  bool has_pending_ = false;
  PinningBlock pending_;
};

struct Segment {
  uint64_t address, size;
  int32_t pool;
  const char* kind;
  std::string backing;
};

std::vector<Segment> segments_of(const LiveLayout& layout) {
  std::vector<Segment> out;
  for (const auto& [address, b] : layout.blocks(LiveLayout::kHeap))
    if (b.pool >= 0) out.push_back({address, b.size, b.pool, "pool segment", "heap"});
  for (const auto& [address, b] : layout.blocks(LiveLayout::kMappings))
    if (b.pool >= 0) out.push_back({address, b.size, b.pool, "pool segment", "mmap"});
  for (const auto& [address, b] : layout.blocks(LiveLayout::kGpu))
    if (b.pool >= 0)
      out.push_back({address, b.size, b.pool, "gpu segment", "cuda:" + std::to_string(b.device)});
  std::sort(out.begin(), out.end(),
            [](const Segment& x, const Segment& y) { return x.address < y.address; });
  return out;
}

void walk_heap(const LiveLayout& layout, const WalkDetail& detail, TopPinning* pinning,
               LayoutWalkResult& out) {
  const bool detailed = detail.detailed;
  std::optional<ExtentScan> scan;
  auto close = [&] {
    if (!scan) return;
    Extent e = scan->close(0);
    out.heap_arena.add(e.holes);
    if (detailed) out.arena_extents.push_back(std::move(e));
    scan.reset();
  };
  for (const auto& [address, b] : layout.blocks(LiveLayout::kHeap)) {
    if (b.mapped_chunk) {
      ++out.mmapped_chunks;
      out.mmapped_bytes += glibc::mapped_chunk_bytes(b.size);
      continue;
    }
    if (scan && address >= scan->end() && address - scan->end() >= glibc::kHeapMaxSize) close();
    if (!scan)
      scan.emplace("heap arena", address, pinning, detail.extent_blocks, detail.top_pinning);
    scan->block(address, b, glibc::chunk_size(b.size), false);
  }
  close();
}

struct PoolWalk {
  PoolLayout layout;
  std::optional<ExtentScan> span;  // sub-allocations outside any segment of the pool
};

void walk_pools(const LiveLayout& layout, const WalkDetail& detail, TopPinning* pinning,
                LayoutWalkResult& out) {
  const bool detailed = detail.detailed;
  const std::vector<Segment> segments = segments_of(layout);
  std::map<int32_t, PoolWalk> pools;
  auto pool = [&](int32_t id) -> PoolWalk& {
    PoolWalk& p = pools[id];
    p.layout.id = id;
    return p;
  };
  auto add_extent = [&](PoolWalk& p, Extent e) {
    p.layout.holes.add(e.holes);
    p.layout.reserved_bytes += e.holes.span_bytes;
    if (detailed) p.layout.extents.push_back(std::move(e));
  };

  size_t next = 0;  // the first segment not yet opened
  std::optional<ExtentScan> open;
  const Segment* open_segment = nullptr;
  auto close_segment = [&] {
    if (!open) return;
    Extent e = open->close(open_segment->address + open_segment->size);
    PoolWalk& p = pool(open_segment->pool);
    const std::string& backing = open_segment->backing;
    p.layout.backing = p.layout.segments == 0 || p.layout.backing == backing ? backing : "mixed";
    ++p.layout.segments;
    if (e.holes.live_blocks == 0) {
      ++p.layout.free_segments;
      p.layout.free_segment_bytes += e.holes.span_bytes;
    }
    p.layout.trailing_free_bytes += e.trailing_free_bytes;
    add_extent(p, std::move(e));
    open.reset();
    open_segment = nullptr;
  };
  auto advance_to = [&](uint64_t address) {
    while (true) {
      if (open && address >= open_segment->address + open_segment->size) close_segment();
      if (open || next == segments.size() || segments[next].address > address) return;
      open_segment = &segments[next++];
      open.emplace(open_segment->kind, open_segment->address, pinning, detail.extent_blocks,
                   detail.top_pinning);
    }
  };

  for (const auto& [address, b] : layout.blocks(LiveLayout::kPoolBlocks)) {
    advance_to(address);
    PoolWalk& p = pool(b.pool);
    p.layout.in_use_bytes += b.size;
    ++p.layout.live_blocks;
    if (open && open_segment->pool == b.pool && address >= open_segment->address) {
      open->block(address, b, b.size, true);
    } else {
      if (!p.span)
        p.span.emplace("pool span", address, pinning, detail.extent_blocks, detail.top_pinning);
      p.span->block(address, b, b.size, true);
    }
  }
  advance_to(UINT64_MAX);
  close_segment();
  for (auto& [id, p] : pools) {
    if (p.span) {
      add_extent(p, p.span->close(0));
      if (p.layout.segments == 0) p.layout.backing = "span";
    }
    out.pools.push_back(std::move(p.layout));
  }
}

}  // namespace

void HoleStats::add(const HoleStats& o) {
  extents += o.extents;
  live_blocks += o.live_blocks;
  used_bytes += o.used_bytes;
  span_bytes += o.span_bytes;
  holes += o.holes;
  free_bytes += o.free_bytes;
  largest_hole = std::max(largest_hole, o.largest_hole);
}

LayoutWalkResult walk_layout(const LiveLayout& layout, const WalkDetail& detail) {
  LayoutWalkResult out;
  TopPinning pinning(detail.top_pinning);
  TopPinning* pins = detail.detailed ? &pinning : nullptr;
  walk_heap(layout, detail, pins, out);
  walk_pools(layout, detail, pins, out);
  out.pinning = pinning.take();
  return out;
}

}  // namespace memtide::analysis
