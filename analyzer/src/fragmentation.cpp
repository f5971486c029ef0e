#include "memtide/analysis/fragmentation.h"

#include <cmath>
#include <map>

#include "fragmentation_replay.h"
#include "scope_paths.h"
#include "sqlite_util.h"
#include "stack_frames.h"

namespace memtide::analysis {

namespace {

std::vector<SampleRow> read_samples(const TraceFile& trace) {
  std::vector<SampleRow> rows;
  Statement s(trace.db(),
              "SELECT time_ns, rss_bytes, heap_arena_bytes, heap_mmap_bytes, live_heap_bytes "
              "FROM samples ORDER BY time_ns");
  while (s.step()) {
    SampleRow r;
    r.time_ns = uint64_t(s.column_int64(0));
    r.rss_bytes = s.is_null(1) ? 0 : uint64_t(s.column_int64(1));
    if (!s.is_null(2)) r.arena_bytes = uint64_t(s.column_int64(2));
    if (!s.is_null(3)) r.mmapped_bytes = uint64_t(s.column_int64(3));
    r.live_usable_bytes = s.is_null(4) ? 0 : uint64_t(s.column_int64(4));
    rows.push_back(r);
  }
  return rows;
}

uint32_t string_id(const TraceFile& trace, const std::string& value) {
  if (value.empty()) return 0;
  Statement s(trace.db(), "SELECT id FROM strings WHERE value = ?");
  s.bind(1, value);
  return s.step() ? uint32_t(s.column_int64(0)) : 0;
}

struct PoolName {
  std::string name;
  uint64_t handle = 0;
};

std::map<int64_t, PoolName> pool_names(const TraceFile& trace) {
  std::map<int64_t, PoolName> names;
  Statement s(trace.db(),
              "SELECT p.id, p.handle, coalesce(str.value, '') FROM pools p "
              "LEFT JOIN strings str ON str.id = p.name_id");
  while (s.step()) names[s.column_int64(0)] = {s.column_text(2), uint64_t(s.column_int64(1))};
  return names;
}

void name_pools(std::vector<PoolLayout>& pools, const std::map<int64_t, PoolName>& names) {
  for (PoolLayout& p : pools) {
    auto it = names.find(p.id);
    if (it == names.end()) continue;
    p.name = it->second.name;
    p.handle = it->second.handle;
  }
}

// The sample nearest the heap peak among those with mallinfo2 figures: the
// arena is only measured at sample times.
std::optional<size_t> overhead_at_peak(const FragmentationReport& r) {
  std::optional<size_t> best;
  uint64_t best_distance = UINT64_MAX;
  for (size_t i = 0; i < r.overhead.size(); ++i) {
    const OverheadPoint& p = r.overhead[i];
    if (!p.heap_ratio) continue;
    const uint64_t distance =
        p.time_ns > r.peak_time_ns ? p.time_ns - r.peak_time_ns : r.peak_time_ns - p.time_ns;
    if (distance < best_distance) best = i, best_distance = distance;
  }
  return best;
}

template <typename Visit>
void for_each_extent(FragmentationState& s, Visit visit) {
  for (Extent& e : s.arena_extents) visit(e);
  for (PoolLayout& p : s.pools)
    for (Extent& e : p.extents) visit(e);
}

// A pool sub-allocation's stack starts in the annotate API's inline
// functions (memtide_pool_allocated), the same in every such stack: the
// frame that says where the block comes from is the first outside them.
std::optional<ReportFrame> innermost_program_frame(const std::vector<ReportFrame>& stack) {
  for (const ReportFrame& f : stack)
    if (f.function.rfind("memtide_", 0) != 0) return f;
  return stack.empty() ? std::nullopt : std::optional(stack.front());
}

void symbolize_blocks(const TraceFile& trace, const FragmentationOptions& options,
                      FragmentationReport& r) {
  bool any = false;
  for (FragmentationState& s : r.states) {
    any = any || !s.pinning.empty();
    for_each_extent(s, [&](const Extent& e) { any = any || !e.blocks.empty(); });
  }
  if (!any) return;
  StackFrames frames(trace, {options.search_paths, options.sysroot});
  ScopePaths scopes(trace);
  for (FragmentationState& s : r.states) {
    for (PinningBlock& b : s.pinning) {
      b.frames = frames.stack(b.stack);
      b.scope_path = scopes.path(b.scope);
    }
    for_each_extent(s, [&](Extent& e) {
      for (ExtentBlock& b : e.blocks) {
        b.top_frame = innermost_program_frame(frames.stack(b.stack));
        b.scope_path = scopes.path(b.scope);
      }
    });
  }
  r.missing_modules = frames.missing_modules();
  frames.save();
}

}  // namespace

FragmentationReport analyze_fragmentation(const TraceFile& trace,
                                          const FragmentationOptions& options) {
  FragmentationReport r;
  r.trace_path = trace.path();
  {
    FragmentationReplay replay(options, read_samples(trace), string_id(trace, options.moments.mark),
                               r);
    trace.for_each_event([&](const EventRecord& e, int64_t) { replay.event(e); });
    replay.finish();
  }
  r.overhead_at_peak = overhead_at_peak(r);
  const std::map<int64_t, PoolName> names = pool_names(trace);
  for (FragmentationPoint& p : r.series) name_pools(p.pools, names);
  for (FragmentationState& s : r.states) name_pools(s.pools, names);
  for (PoolTotals& t : r.pools) {
    auto it = names.find(t.id);
    if (it == names.end()) continue;
    t.name = it->second.name;
    t.handle = it->second.handle;
  }
  r.extent_blocks = options.extent_blocks;
  symbolize_blocks(trace, options, r);
  return r;
}

}  // namespace memtide::analysis
