#include "fragmentation_replay.h"

#include <algorithm>

#include "glibc_chunks.h"
#include "layout_walk.h"
#include "memtide_common/gpu_event.h"

namespace memtide::analysis {

namespace {

// The peak's undo log may grow to this many changes, or to the live set if
// larger, before the peak's state is taken: a walk of the live set then costs
// no more than the changes already replayed.
constexpr size_t kMinPeakLog = 16384;

bool is_heap_allocation(EventKind k) {
  const auto v = static_cast<uint8_t>(k);
  return v >= 1 && v <= 13;
}

bool is_heap_release(EventKind k) {
  return k == EventKind::kFree || k == EventKind::kDelete || k == EventKind::kDeleteArray ||
         k == EventKind::kReallocFree;
}

// GPU allocations that are memory at an address a caching allocator could
// carve: VMM handles, mappings and reservations, module globals and graph
// memory are not segments.
bool is_gpu_segment_kind(EventKind k) {
  return k == EventKind::kCudaDevice || k == EventKind::kCudaManaged ||
         k == EventKind::kCudaAsync || k == EventKind::kCudaPinned;
}

bool is_gpu_segment_release(EventKind k) {
  return k == EventKind::kCudaFree || k == EventKind::kCudaFreeAsync ||
         k == EventKind::kCudaFreeHost;
}

}  // namespace

FragmentationReplay::FragmentationReplay(const FragmentationOptions& options,
                                         std::vector<SampleRow> samples, uint32_t mark_id,
                                         FragmentationReport& out)
    : options_(options), samples_(std::move(samples)), mark_id_(mark_id), out_(out) {
  // Series points at evenly spread samples, the first and the last included.
  const size_t n = samples_.size(), points = std::min(options.series_points, n);
  series_sample_.assign(n, false);
  if (points == 1) series_sample_[n - 1] = true;
  for (size_t i = 0; points > 1 && i < points; ++i)
    series_sample_[i * (n - 1) / (points - 1)] = true;
  out_.overhead.reserve(n);
  update_deadline();
}

void FragmentationReplay::update_deadline() {
  deadline_ = UINT64_MAX;
  if (next_sample_ < samples_.size()) deadline_ = samples_[next_sample_].time_ns;
  if (options_.moments.time_ns && !at_time_state_)
    deadline_ = std::min(deadline_, *options_.moments.time_ns);
}

// Samples and the asked-for time see every event up to their time.
void FragmentationReplay::deadlines(uint64_t time_ns) {
  while (next_sample_ < samples_.size() && samples_[next_sample_].time_ns < time_ns)
    take_sample(next_sample_++);
  if (options_.moments.time_ns && !at_time_state_ && *options_.moments.time_ns < time_ns)
    at_time_state_ = state("at " + std::to_string(*options_.moments.time_ns) + " ns",
                           *options_.moments.time_ns, last_seq_, live_heap_);
  update_deadline();
}

void FragmentationReplay::take_sample(size_t index) {
  const SampleRow& s = samples_[index];
  OverheadPoint p;
  p.time_ns = s.time_ns;
  p.live_heap_bytes = live_heap_;
  p.live_usable_bytes = s.live_usable_bytes;
  p.rss_bytes = s.rss_bytes;
  p.arena_bytes = s.arena_bytes;
  p.mmapped_bytes = s.mmapped_bytes;
  if (live_heap_ > 0) {
    if (s.arena_bytes && s.mmapped_bytes)
      p.heap_ratio = double(*s.arena_bytes + *s.mmapped_bytes) / double(live_heap_);
    if (s.rss_bytes) p.rss_ratio = double(s.rss_bytes) / double(live_heap_);
  }
  out_.overhead.push_back(p);
  if (!series_sample_[index]) return;
  LayoutWalkResult walk = walk_layout(layout_, {});
  FragmentationPoint point;
  point.time_ns = s.time_ns;
  point.heap_arena = walk.heap_arena;
  point.mmapped_chunks = walk.mmapped_chunks;
  point.mmapped_bytes = walk.mmapped_bytes;
  point.pools = std::move(walk.pools);
  out_.series.push_back(std::move(point));
}

void FragmentationReplay::event(const EventRecord& e) {
  if (e.time_ns > deadline_) deadlines(e.time_ns);
  ++out_.events;
  last_time_ = e.time_ns;
  last_seq_ = e.seq;
  const EventKind k = e.kind;
  if (is_heap_allocation(k)) {
    open_heap(e, glibc::requested_alignment(k, e.aux));
  } else if (is_heap_release(k)) {
    close_heap(e.address);
  } else if (k == EventKind::kReallocInPlace) {
    close_heap(e.address);
    open_heap(e, glibc::kChunkAlign);
  } else if (k == EventKind::kPoolAlloc) {
    pool_alloc(e);
  } else if (k == EventKind::kPoolFree) {
    pool_free(e.address);
  } else if (k == EventKind::kPoolCreate) {
    pool(int32_t(e.aux));
  } else if (k == EventKind::kPoolDestroy) {
    pool(int32_t(e.aux)).destroyed = true;
  } else if (k == EventKind::kMmap || k == EventKind::kMremap) {
    map(e);
  } else if (k == EventKind::kMunmap || k == EventKind::kMremapUnmap) {
    unmap(e.address, e.size);
  } else if (is_gpu_segment_kind(k)) {
    open_gpu(e);
  } else if (is_gpu_segment_release(k)) {
    drop(LiveLayout::kGpu, e.address);
  } else if (k == EventKind::kMark && mark_id_ != 0 && e.aux == mark_id_ && !at_mark_state_) {
    at_mark_state_ = state("at mark " + options_.moments.mark, e.time_ns, e.seq, live_heap_);
    out_.mark_found = true;
  }
  after_event();
}

void FragmentationReplay::open_heap(const EventRecord& e, uint64_t alignment) {
  LiveBlock b;
  b.size = e.size;
  b.time_ns = e.time_ns;
  b.stack = e.stack;
  b.scope = e.scope;
  b.mapped_chunk = glibc::is_mapped_chunk(e.address, e.size, alignment);
  // A block at an address whose block was never freed: the free was lost.
  if (auto lost = layout_.put(LiveLayout::kHeap, e.address, b)) forget(*lost, true);
  live_heap_ += e.size;
  if (live_heap_ > out_.peak_heap_bytes) {
    out_.peak_heap_bytes = live_heap_;
    out_.peak_time_ns = e.time_ns;
    out_.peak_seq = e.seq;
    new_peak_ = true;
  }
}

// Allocated before tracing, or not a heap pointer, when nothing is there.
void FragmentationReplay::close_heap(uint64_t address) {
  if (auto b = layout_.take(LiveLayout::kHeap, address)) forget(*b, true);
}

void FragmentationReplay::drop(LiveLayout::Space space, uint64_t address) {
  if (auto b = layout_.take(space, address)) forget(*b, false);
}

void FragmentationReplay::forget(const LiveBlock& b, bool heap) {
  if (heap) live_heap_ -= b.size;
  if (b.pool >= 0) pool(b.pool).segment_bytes -= b.size;
}

void FragmentationReplay::add_segment(const LiveBlock& b) {
  PoolCounters& p = pool(b.pool);
  p.segment_bytes += b.size;
  p.peak_segment_bytes = std::max(p.peak_segment_bytes, p.segment_bytes);
}

void FragmentationReplay::map(const EventRecord& e) {
  // A mapping over an old one (MAP_FIXED, an mremap in place) replaces it;
  // the pool it backed, if any, stays with the address.
  const LiveBlock* previous = layout_.find(LiveLayout::kMappings, e.address);
  const int32_t pool_id = previous != nullptr ? previous->pool : -1;
  unmap(e.address, e.size);
  LiveBlock b;
  b.size = e.size;
  b.time_ns = e.time_ns;
  b.stack = e.stack;
  b.scope = e.scope;
  b.pool = pool_id;
  layout_.put(LiveLayout::kMappings, e.address, b);
  if (pool_id >= 0) add_segment(b);
}

void FragmentationReplay::unmap(uint64_t address, uint64_t length) {
  const uint64_t end = address + length;
  std::vector<std::pair<uint64_t, LiveBlock>> hit;
  const LiveLayout::Blocks& mappings = layout_.blocks(LiveLayout::kMappings);
  auto it = mappings.upper_bound(address);
  if (it != mappings.begin() && std::prev(it)->first + std::prev(it)->second.size > address) --it;
  for (; it != mappings.end() && it->first < end; ++it) hit.emplace_back(*it);
  // An unmap of part of a mapping leaves the parts before and after it.
  for (const auto& [start, b] : hit) {
    drop(LiveLayout::kMappings, start);
    if (start < address) {
      LiveBlock left = b;
      left.size = address - start;
      layout_.put(LiveLayout::kMappings, start, left);
      if (left.pool >= 0) add_segment(left);
    }
    if (start + b.size > end) {
      LiveBlock right = b;
      right.size = start + b.size - end;
      layout_.put(LiveLayout::kMappings, end, right);
      if (right.pool >= 0) add_segment(right);
    }
  }
}

void FragmentationReplay::pool_alloc(const EventRecord& e) {
  const int32_t id = int32_t(e.aux);
  LiveBlock b;
  b.size = e.size;
  b.time_ns = e.time_ns;
  b.stack = e.stack;
  b.scope = e.scope;
  b.pool = id;
  // A lost free of the same address.
  if (auto lost = layout_.put(LiveLayout::kPoolBlocks, e.address, b))
    pool(lost->pool).in_use -= lost->size;
  PoolCounters& p = pool(id);
  p.in_use += e.size;
  p.peak_in_use = std::max(p.peak_in_use, p.in_use);
  ++p.allocations;
  claim_backing(id, e.address);
}

void FragmentationReplay::pool_free(uint64_t address) {
  if (auto b = layout_.take(LiveLayout::kPoolBlocks, address)) pool(b->pool).in_use -= b->size;
}

// The heap block, GPU block or mapping that holds a sub-allocation backs its
// pool: it is one of the pool's segments from then on.
void FragmentationReplay::claim_backing(int32_t pool_id, uint64_t address) {
  for (LiveLayout::Space space : {LiveLayout::kHeap, LiveLayout::kGpu, LiveLayout::kMappings}) {
    auto it = layout_.containing(space, address);
    if (it == layout_.blocks(space).end()) continue;
    if (it->second.pool >= 0) return;  // already a segment (of this pool or another)
    LiveBlock b = it->second;
    b.pool = pool_id;
    layout_.put(space, it->first, b);
    add_segment(b);
    return;
  }
}

void FragmentationReplay::open_gpu(const EventRecord& e) {
  LiveBlock b;
  b.size = e.size;
  b.time_ns = e.time_ns;
  b.stack = e.stack;
  b.scope = e.scope;
  b.device = uint8_t(unpack_gpu_aux(e.aux).device);
  if (auto lost = layout_.put(LiveLayout::kGpu, e.address, b)) forget(*lost, false);
}

void FragmentationReplay::after_event() {
  if (!options_.moments.peak) return;
  if (new_peak_) {
    // The state now is the peak's: log what changes from here on.
    new_peak_ = false;
    peak_state_.reset();
    layout_.start_log();
  } else if (layout_.logging() &&
             layout_.log_size() > std::max(kMinPeakLog, layout_.live_blocks())) {
    take_peak_state();
  }
}

void FragmentationReplay::take_peak_state() {
  layout_.undo();
  peak_state_ = state("peak", out_.peak_time_ns, out_.peak_seq, out_.peak_heap_bytes);
  layout_.redo();
  layout_.stop_log();
}

FragmentationState FragmentationReplay::state(const std::string& label, uint64_t time_ns,
                                              uint64_t seq, uint64_t live_heap) const {
  LayoutWalkResult walk =
      walk_layout(layout_, {true, options_.top_pinning, options_.extent_blocks});
  FragmentationState s;
  s.label = label;
  s.time_ns = time_ns;
  s.seq = seq;
  s.live_heap_bytes = live_heap;
  s.heap_arena = walk.heap_arena;
  s.arena_extents = std::move(walk.arena_extents);
  s.mmapped_chunks = walk.mmapped_chunks;
  s.mmapped_bytes = walk.mmapped_bytes;
  s.pools = std::move(walk.pools);
  s.pinning = std::move(walk.pinning);
  return s;
}

void FragmentationReplay::finish() {
  while (next_sample_ < samples_.size()) take_sample(next_sample_++);
  const FragmentationMoments& m = options_.moments;
  if (m.time_ns && !at_time_state_)
    at_time_state_ =
        state("at " + std::to_string(*m.time_ns) + " ns", last_time_, last_seq_, live_heap_);
  if (at_time_state_) out_.states.push_back(std::move(*at_time_state_));
  if (at_mark_state_) out_.states.push_back(std::move(*at_mark_state_));
  std::optional<FragmentationState> end;
  if (m.end) end = state("end", last_time_, last_seq_, live_heap_);
  if (m.peak) {
    if (layout_.logging()) take_peak_state();
    // No heap block ever: the peak is the empty start.
    if (!peak_state_) peak_state_.emplace().label = "peak";
    out_.states.push_back(std::move(*peak_state_));
  }
  if (end) out_.states.push_back(std::move(*end));
  for (const auto& [id, c] : pools_) {
    PoolTotals t;
    t.id = id;
    t.peak_in_use_bytes = c.peak_in_use;
    t.peak_segment_bytes = c.peak_segment_bytes;
    t.allocations = c.allocations;
    t.destroyed = c.destroyed;
    out_.pools.push_back(t);
  }
}

}  // namespace memtide::analysis
