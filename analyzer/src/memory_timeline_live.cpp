// live_blocks_at: what was live at one moment of the timeline, from the
// allocation index, named by the same memories as the timeline's tracks so
// the totals can be read against the chart.
#include <algorithm>
#include <map>

#include "memtide/analysis/allocation_index.h"
#include "memtide/analysis/memory_timeline.h"
#include "memtide_common/gpu_event.h"
#include "scope_paths.h"
#include "sqlite_util.h"

namespace memtide::analysis {

namespace {

// A block is live at t when it was allocated at or before t and not freed
// by then.
constexpr const char* kLiveAt =
    " FROM allocations WHERE alloc_time_ns <= ?1 AND (free_time_ns IS NULL OR free_time_ns > ?1)";

class MemoryNames {
 public:
  explicit MemoryNames(const TraceFile& trace) {
    Statement s(trace.db(),
                "SELECT p.id, coalesce(st.value, '') FROM pools p LEFT JOIN strings st ON "
                "st.id = p.name_id");
    while (s.step()) pools_[s.column_int64(0)] = s.column_text(1);
  }

  // "heap", "pool NAME", "cuda:0 device": the timeline's track names.
  std::string operator()(int family, int64_t device, int64_t pool, EventKind kind) const {
    if (family == int(AllocFamily::kPool)) {
      auto it = pools_.find(pool);
      return "pool " + (it != pools_.end() ? it->second : "#" + std::to_string(pool));
    }
    if (family != int(AllocFamily::kGpu)) return "heap";
    const std::string d =
        device == int64_t(kGpuDeviceUnknown) ? std::string("?") : std::to_string(device);
    return "cuda:" + d + " " + gpu_memory_class_name(gpu_memory_class(kind));
  }

 private:
  std::map<int64_t, std::string> pools_;
};

}  // namespace

uint64_t LiveBlocks::bytes(const std::string& memory) const {
  for (const LiveTotal& t : totals)
    if (t.memory == memory) return t.bytes;
  return 0;
}

LiveBlocks live_blocks_at(const TraceFile& trace, uint64_t time_ns, size_t limit) {
  LiveBlocks out;
  out.time_ns = time_ns;
  const MemoryNames memory(trace);
  {
    Statement s(trace.db(), (std::string("SELECT family, coalesce(device, -1), "
                                         "coalesce(pool, -1), kind, count(*), sum(size)") +
                             kLiveAt + " GROUP BY 1, 2, 3, 4")
                                .c_str());
    s.bind(1, int64_t(time_ns));
    std::map<std::string, LiveTotal> totals;
    while (s.step()) {
      const std::string name =
          memory(s.column_int(0), s.column_int64(1), s.column_int64(2), EventKind(s.column_int(3)));
      LiveTotal& t = totals[name];
      t.memory = name;
      t.blocks += uint64_t(s.column_int64(4));
      t.bytes += uint64_t(s.column_int64(5));
      out.blocks_total += uint64_t(s.column_int64(4));
    }
    for (auto& [name, total] : totals) out.totals.push_back(total);
    std::sort(out.totals.begin(), out.totals.end(),
              [](const LiveTotal& a, const LiveTotal& b) { return a.bytes > b.bytes; });
  }
  Statement s(trace.db(), (std::string("SELECT id, size, kind, family, coalesce(device, -1), "
                                       "coalesce(pool, -1), scope, stack, coalesce(step, -1), "
                                       "thread_id, alloc_time_ns") +
                           kLiveAt + " ORDER BY size DESC, id LIMIT ?2")
                              .c_str());
  s.bind(1, int64_t(time_ns));
  s.bind(2, int64_t(limit));
  ScopePaths scopes(trace);
  while (s.step()) {
    LiveBlock b;
    b.id = s.column_int64(0);
    b.size = uint64_t(s.column_int64(1));
    const auto kind = EventKind(s.column_int(2));
    b.kind = event_kind_name(kind);
    b.device = int(s.column_int64(4));
    b.memory = memory(s.column_int(3), s.column_int64(4), s.column_int64(5), kind);
    b.scope = scopes.path(uint32_t(s.column_int64(6)));
    b.stack = uint32_t(s.column_int64(7));
    b.step = s.column_int64(8);
    b.thread_id = s.column_int64(9);
    b.alloc_time_ns = uint64_t(s.column_int64(10));
    out.blocks.push_back(std::move(b));
  }
  return out;
}

}  // namespace memtide::analysis
