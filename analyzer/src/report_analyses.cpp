#include "report_analyses.h"

#include <algorithm>
#include <future>
#include <map>
#include <unordered_map>

#include "block_replay.h"
#include "memtide/analysis/fragmentation.h"
#include "memtide/analysis/peak.h"
#include "memtide/analysis/scope_lifetimes.h"
#include "memtide/analysis/step_lifetimes.h"
#include "memtide/analysis/temporaries.h"
#include "sqlite_util.h"

namespace memtide::analysis {

namespace {

constexpr size_t kMaxLayerRows = 300;
constexpr size_t kMaxBars = 400;
constexpr size_t kMaxIcicleGroups = 50;
constexpr size_t kMaxTemporaries = 20;

void add_layers(const TraceFile& trace, ProcessReport& p) {
  const ScopeLifetimes lifetimes = scope_lifetimes(trace, {});
  for (const ScopeRow& row : lifetimes.scopes) {
    if (p.layers.size() == kMaxLayerRows) break;
    const ScopeMeasures& m = row.subtree;
    p.layers.push_back({row.path, row.depth, row.phase, m.allocations, m.bytes, m.pool_bytes,
                        m.peak_live_bytes, m.outliving_bytes, m.live_at_step_end_bytes,
                        m.median_lifetime_ns, m.p95_lifetime_ns});
  }
}

void add_gantt(const TraceFile& trace, int64_t step, ProcessReport& p) {
  if (step < 0) return;
  StepLifetimesOptions options;
  options.max_bars = kMaxBars;
  p.gantt = step_lifetimes(trace, step, options);
}

std::string frame_label(const ReportFrame& f) {
  if (!f.function.empty()) return f.function;
  const size_t slash = f.module.rfind('/');
  char offset[32];
  snprintf(offset, sizeof offset, "+0x%llx", (unsigned long long)f.module_offset);
  return (slash == std::string::npos ? f.module : f.module.substr(slash + 1)) + offset;
}

// Lays the stacks out as an icicle: one node per distinct path from the
// outermost frame, its width the bytes of the stacks through it.
std::vector<IcicleNode> icicle_of(const std::vector<LiveGroup>& groups, uint64_t& total) {
  struct Node {
    uint64_t bytes = 0;
    std::map<std::string, Node> children;
  };
  Node root;
  total = 0;
  for (const LiveGroup& g : groups) {
    total += g.bytes;
    Node* node = &root;
    for (auto f = g.frames.rbegin(); f != g.frames.rend(); ++f) {
      node = &node->children[frame_label(*f)];
      node->bytes += g.bytes;
    }
  }
  std::vector<IcicleNode> out;
  auto lay_out = [&out](auto& self, const Node& node, int depth, uint64_t offset) -> void {
    std::vector<std::pair<std::string, const Node*>> ordered;
    for (const auto& [name, child] : node.children) ordered.emplace_back(name, &child);
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return a.second->bytes > b.second->bytes; });
    for (const auto& [name, child] : ordered) {
      out.push_back({name, depth, offset, child->bytes});
      if (depth < 40) self(self, *child, depth + 1, offset);
      offset += child->bytes;
    }
  };
  lay_out(lay_out, root, 0, 0);
  return out;
}

int64_t add_peak(const TraceFile& trace, const ReportOptions& options, ProcessReport& p) {
  PeakOptions peak_options;
  peak_options.max_groups = kMaxIcicleGroups;
  peak_options.search_paths = options.search_paths;
  peak_options.sysroot = options.sysroot;
  const PeakReport report = find_peak(trace, peak_options);
  const PeakSnapshot& s = report.total.moment.bytes > 0 ? report.total : report.host;
  PeakBreakdown& b = p.peak_breakdown;
  b.found = s.moment.bytes > 0;
  b.measure = s.measure;
  b.bytes = s.moment.bytes;
  b.time_ns = s.moment.time_ns;
  b.step = s.moment.step;
  b.scope = s.moment.scope;
  std::map<std::string, uint64_t> by_scope;
  for (const LiveGroup& g : s.by_scope)
    by_scope[g.scope.empty() ? "(no scope)" : g.scope] += g.bytes;
  b.by_scope.assign(by_scope.begin(), by_scope.end());
  std::sort(b.by_scope.begin(), b.by_scope.end(),
            [](const auto& x, const auto& y) { return x.second > y.second; });
  b.icicle = icicle_of(s.by_stack, b.icicle_bytes);
  return b.step;
}

void add_temporaries(const TraceFile& trace, const ReportOptions& options, ProcessReport& p) {
  TopOptions top;
  top.order = SiteOrder::kTemporaries;
  top.max_sites = kMaxTemporaries;
  top.search_paths = options.search_paths;
  top.sysroot = options.sysroot;
  for (const AllocationSite& site : top_allocations(trace, top).stacks) {
    if (site.temporaries == 0) continue;
    p.temporaries.push_back(
        {site.frames, site.scope, site.allocations, site.temporaries, site.temporary_bytes});
  }
}

void add_fragmentation(const TraceFile& trace, const ReportOptions& options, ProcessReport& p) {
  FragmentationOptions f;
  f.moments.end = false;
  f.top_pinning = 0;
  f.search_paths = options.search_paths;
  f.sysroot = options.sysroot;
  const FragmentationReport report = analyze_fragmentation(trace, f);
  for (const OverheadPoint& o : report.overhead)
    p.overhead.push_back({o.time_ns, o.heap_ratio.value_or(0), o.rss_ratio.value_or(0)});
  for (const FragmentationPoint& point : report.series)
    p.fragmentation.push_back(
        {point.time_ns, point.heap_arena.fragmentation(), point.heap_arena.free_bytes});
}

}  // namespace

std::future<AnalysesResult> start_analyses(const std::string& trace_path,
                                           const ReportOptions& options) {
  // Four passes, each on its own connection to the trace, side by side: on a
  // machine with more than one core the page costs little more than its
  // slowest pass.
  auto run = [trace_path, options](auto fill) {
    return std::async(std::launch::async, [trace_path, options, fill] {
      TraceFile trace(trace_path);
      trace.set_scan_control(options.scan_control);
      ProcessReport part;
      fill(trace, options, part);
      return part;
    });
  };
  auto layers =
      run([](const TraceFile& t, const ReportOptions&, ProcessReport& p) { add_layers(t, p); });
  auto peak = run([](const TraceFile& t, const ReportOptions& o, ProcessReport& p) {
    int64_t step = add_peak(t, o, p);
    // The Gantt shows the step of the peak, else the second step (the
    // first often carries one-time set-up).
    if (step < 0) step = 1;
    add_gantt(t, step, p);
  });
  auto temporaries = run([](const TraceFile& t, const ReportOptions& o, ProcessReport& p) {
    add_temporaries(t, o, p);
  });
  auto fragmentation = run([](const TraceFile& t, const ReportOptions& o, ProcessReport& p) {
    add_fragmentation(t, o, p);
  });
  return std::async(std::launch::deferred, [layers = std::move(layers), peak = std::move(peak),
                                            temporaries = std::move(temporaries),
                                            fragmentation = std::move(fragmentation)]() mutable {
    AnalysesResult r;
    ProcessReport l = layers.get(), k = peak.get(), t = temporaries.get(), f = fragmentation.get();
    r.layers = std::move(l.layers);
    r.gantt = std::move(k.gantt);
    r.peak_breakdown = std::move(k.peak_breakdown);
    r.temporaries = std::move(t.temporaries);
    r.overhead = std::move(f.overhead);
    r.fragmentation = std::move(f.fragmentation);
    return r;
  });
}

void AnalysesResult::move_into(ProcessReport& p) {
  p.layers = std::move(layers);
  p.gantt = std::move(gantt);
  p.peak_breakdown = std::move(peak_breakdown);
  p.temporaries = std::move(temporaries);
  p.overhead = std::move(overhead);
  p.fragmentation = std::move(fragmentation);
}

}  // namespace memtide::analysis
