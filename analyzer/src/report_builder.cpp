#include "memtide/analysis/report_builder.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "block_replay.h"
#include "memtide_common/event.h"
#include "memtide_common/gpu_event.h"
#include "report_analyses.h"
#include "sqlite_util.h"
#include "stack_frames.h"

namespace memtide::analysis {

namespace {

bool has_table(const TraceFile& trace, const char* name) {
  Statement s(trace.db(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.bind(1, std::string(name));
  return s.step();
}

std::string scope_path(const TraceFile& trace, uint32_t scope) {
  if (scope == 0) return "";
  Statement s(trace.db(), "SELECT path FROM scope_paths WHERE id = ?");
  s.bind(1, int64_t(scope));
  return s.step() ? s.column_text(0) : "";
}

// Leak categories from the agent's exit scan (leak_scan.category).
const char* scan_category(int64_t code) {
  switch (code) {
    case 1:
      return "definite";
    case 2:
      return "indirect";
    case 3:
      return "possible";
    case 4:
      return "reachable";
  }
  return "not-freed";
}

int category_rank(const std::string& c) {
  const auto& all = report_categories();
  return int(std::find(all.begin(), all.end(), c) - all.begin());
}

class ProcessBuilder {
 public:
  ProcessBuilder(const std::string& path, const ReportOptions& options)
      : trace_(path), options_(options), frames_(trace_, {options.search_paths, options.sysroot}) {
    trace_.set_scan_control(options.scan_control);
  }

  ProcessReport build() {
    std::future<AnalysesResult> analyses;
    if (options_.analyses) analyses = start_analyses(trace_.path(), options_);
    ProcessReport p;
    p.trace_path = trace_.path();
    describe_process(p);
    Aggregates totals = aggregate();
    p.peak_bytes = uint64_t(std::max<int64_t>(0, totals.stats.peak_heap_bytes));
    p.peak_time_ns = totals.stats.peak_time_ns;
    p.allocations = totals.stats.allocations;
    p.frees = totals.stats.allocations - totals.stats.live_at_end;
    p.step_times_ns = std::move(totals.step_times);
    add_leaks(p, totals);
    add_errors(p, totals);
    add_growth(p, totals);
    add_timeline(p);
    if (analyses.valid()) analyses.get().move_into(p);
    p.missing_modules = frames_.missing_modules();
    frames_.save();
    return p;
  }

 private:
  struct LeakKey {
    int category;  // index in report_categories()
    uint32_t stack, scope;
    int64_t device;  // -1 on the host
    bool operator<(const LeakKey& o) const {
      return std::tie(category, stack, scope, device) <
             std::tie(o.category, o.stack, o.scope, o.device);
    }
  };
  struct Totals {
    uint64_t bytes = 0, blocks = 0;
  };
  struct GrowthTotals {
    std::set<int64_t> steps;
    uint64_t bytes = 0;
  };
  struct Aggregates {
    IndexStats stats;
    std::vector<uint64_t> step_times;
    std::map<LeakKey, Totals> leaks;
    std::map<std::tuple<int, int, uint32_t>, uint64_t> mismatches;  // kind, free kind, stack
    std::map<std::pair<int, uint32_t>, uint64_t> unknown_frees;     // kind, stack
    std::map<std::tuple<uint32_t, uint32_t, int64_t>, GrowthTotals> growth;  // stack, scope, device
  };

  // One pass over the events, in memory bounded by the blocks live at a time:
  // reports never need the SQL index, so they run at decoding speed.
  class ReportSink : public BlockSink {
   public:
    ReportSink(Aggregates& out, const std::unordered_map<uint64_t, int>& scan)
        : out_(out), scan_(scan) {}

    void block(const Block& b, const BlockEnd& end) override {
      if (end.freed != nullptr) {
        if (end.mismatch) ++out_.mismatches[{int(b.kind), int(end.freed->kind), b.stack}];
        return;
      }
      if (b.family == AllocFamily::kPool) return;  // the pool's own reserve is the leak, if any
      if (b.kind == EventKind::kCudaVmmMap || b.kind == EventKind::kCudaReserve) return;
      const bool gpu = b.family == AllocFamily::kGpu;
      int category = category_rank("not-freed");
      if (gpu) {
        category = category_rank("gpu");
      } else if (!scan_.empty()) {
        auto it = scan_.find(b.address);
        if (it != scan_.end()) category = category_rank(scan_category(it->second));
      }
      Totals& t = out_.leaks[{category, b.stack, b.scope, gpu ? b.device : -1}];
      t.bytes += b.size;
      ++t.blocks;
      if (b.step >= 1) {
        GrowthTotals& g = out_.growth[{b.stack, b.scope, gpu ? b.device : -1}];
        g.steps.insert(b.step);
        g.bytes += b.size;
      }
    }

    void unmatched_free(const EventRecord& e, int64_t) override {
      ++out_.unknown_frees[{int(e.kind), e.stack}];
    }

    void step(int64_t, const EventRecord& e, int64_t, int64_t) override {
      out_.step_times.push_back(e.time_ns);
    }

   private:
    Aggregates& out_;
    const std::unordered_map<uint64_t, int>& scan_;
  };

  Aggregates aggregate() {
    std::unordered_map<uint64_t, int> scan;
    if (scan_done_) {
      Statement s(trace_.db(), "SELECT address, category FROM leak_scan");
      while (s.step()) scan[uint64_t(s.column_int64(0))] = int(s.column_int64(1));
    }
    Aggregates out;
    ReportSink sink(out, scan);
    BlockReplay replay(sink);
    trace_.for_each_event([&](const EventRecord& e, int64_t thread) { replay.event(e, thread); });
    out.stats = replay.finish();
    return out;
  }

  void describe_process(ProcessReport& p) {
    Statement s(trace_.db(),
                "SELECT pid, parent_pid, command_line, end_reason, start_time_ns, end_time_ns "
                "FROM processes LIMIT 1");
    if (s.step()) {
      p.pid = s.column_int64(0);
      p.parent_pid = s.column_int64(1);
      p.command_line = s.column_text(2);
      p.end_reason = s.is_null(3) ? "" : s.column_text(3);
      p.start_time_ns = uint64_t(s.column_int64(4));
      if (!s.is_null(5) && s.column_int64(5) > s.column_int64(4))
        p.duration_seconds = double(s.column_int64(5) - s.column_int64(4)) / 1e9;
    }
    p.ended_cleanly = trace_.meta("ended_cleanly") == "1";
    if (p.end_reason.empty()) p.end_reason = "killed (no final flush)";
    scan_done_ = trace_.meta("leak_scan") == "done" && has_table(trace_, "leak_scan");
    p.leak_scan_done = scan_done_;
  }

  // Blocks live at exit, grouped by category, stack, scope and device.
  void add_leaks(ProcessReport& p, const Aggregates& a) {
    for (const auto& [key, totals] : a.leaks) {
      LeakGroup g;
      g.category = report_categories()[size_t(key.category)];
      g.device = key.device >= 0 ? "cuda:" + std::to_string(key.device) : "host";
      g.bytes = totals.bytes;
      g.blocks = totals.blocks;
      g.frames = frames_.stack(key.stack);
      g.scope = scope_path(trace_, key.scope);
      if (options_.suppressions.matches(g.category, g.frames)) {
        g.suppressed = true;
        p.suppressed_blocks += g.blocks;
        p.suppressed_bytes += g.bytes;
      }
      p.leaks.push_back(std::move(g));
    }
    std::sort(p.leaks.begin(), p.leaks.end(), [](const LeakGroup& a, const LeakGroup& b) {
      if (category_rank(a.category) != category_rank(b.category))
        return category_rank(a.category) < category_rank(b.category);
      return a.bytes != b.bytes ? a.bytes > b.bytes : a.blocks > b.blocks;
    });
  }

  void add_errors(ProcessReport& p, const Aggregates& a) {
    for (const auto& [key, count] : a.mismatches) {
      const auto [kind, free_kind, stack] = key;
      ErrorGroup e;
      e.kind = "mismatch";
      e.detail = std::string(event_kind_name(EventKind(kind))) + " freed by " +
                 event_kind_name(EventKind(free_kind));
      e.count = count;
      e.frames = frames_.stack(stack);
      if (!options_.suppressions.matches("mismatch", e.frames)) p.errors.push_back(std::move(e));
    }
    for (const auto& [key, count] : a.unknown_frees) {
      ErrorGroup e;
      e.kind = "unknown free";
      e.detail = std::string(event_kind_name(EventKind(key.first))) +
                 " of a pointer never allocated (or allocated before tracing began)";
      e.count = count;
      e.frames = frames_.stack(key.second);
      if (!options_.suppressions.matches("unknown-free", e.frames))
        p.errors.push_back(std::move(e));
    }
    std::stable_sort(p.errors.begin(), p.errors.end(),
                     [](const ErrorGroup& x, const ErrorGroup& y) {
                       return x.kind != y.kind ? x.kind < y.kind : x.count > y.count;
                     });
  }

  // Blocks allocated after the first step and still live at the end, from
  // allocation sites that left such blocks in at least half of the steps:
  // what grows step after step until the run dies of it.
  void add_growth(ProcessReport& p, const Aggregates& a) {
    const int64_t steps = int64_t(p.step_times_ns.size());
    if (steps < 4) return;
    const int64_t last_step = steps - 1;
    const size_t min_steps = size_t(std::max<int64_t>(3, last_step / 2));
    std::vector<GrowthGroup> groups;
    for (const auto& [key, g] : a.growth) {
      if (g.steps.size() < min_steps) continue;
      const auto [stack, scope, device] = key;
      GrowthGroup out;
      out.frames = frames_.stack(stack);
      if (options_.suppressions.matches("growth", out.frames)) continue;
      out.scope = scope_path(trace_, scope);
      out.device = device >= 0 ? "cuda:" + std::to_string(device) : "host";
      out.steps = g.steps.size();
      out.live_bytes = g.bytes;
      const int64_t span = *g.steps.rbegin() - *g.steps.begin() + 1;
      out.bytes_per_step = g.bytes / uint64_t(std::max<int64_t>(1, span));
      groups.push_back(std::move(out));
    }
    std::sort(groups.begin(), groups.end(), [](const GrowthGroup& x, const GrowthGroup& y) {
      return x.live_bytes > y.live_bytes;
    });
    if (groups.size() > options_.max_groups) groups.resize(options_.max_groups);
    p.growth = std::move(groups);
  }

  void add_timeline(ProcessReport& p) {
    std::map<uint64_t, uint64_t> gpu;
    if (has_table(trace_, "gpu_samples")) {
      Statement g(trace_.db(),
                  "SELECT time_ns, sum(coalesce(live_device_bytes, 0) + "
                  "coalesce(live_managed_bytes, 0) + coalesce(live_async_bytes, 0) + "
                  "coalesce(live_physical_bytes, 0) + coalesce(live_static_bytes, 0) + "
                  "coalesce(live_graph_bytes, 0)) FROM gpu_samples GROUP BY time_ns");
      while (g.step()) gpu[uint64_t(g.column_int64(0))] = uint64_t(g.column_int64(1));
    }
    Statement s(trace_.db(),
                "SELECT time_ns, coalesce(live_heap_bytes, 0), coalesce(live_mmap_bytes, 0), "
                "coalesce(rss_bytes, 0) FROM samples ORDER BY time_ns");
    while (s.step()) {
      TimelinePoint t;
      t.time_ns = uint64_t(s.column_int64(0));
      t.heap_bytes = uint64_t(s.column_int64(1));
      t.mmap_bytes = uint64_t(s.column_int64(2));
      t.rss_bytes = uint64_t(s.column_int64(3));
      auto it = gpu.find(t.time_ns);
      if (it != gpu.end()) t.gpu_bytes = it->second;
      p.timeline.push_back(t);
    }
  }

  TraceFile trace_;
  const ReportOptions& options_;
  StackFrames frames_;
  bool scan_done_ = false;
};

bool wants(const ReportOptions& o, const std::string& category) {
  return std::find(o.fail_on.begin(), o.fail_on.end(), category) != o.fail_on.end();
}

std::string process_label(const ProcessReport& p) {
  return "process " + std::to_string(p.pid);
}

void apply_gates(ReportData& data, const ReportOptions& o) {
  for (const std::string& category : report_categories()) {
    if (!wants(o, category)) continue;
    GateVerdict v{category, true, ""};
    uint64_t groups = 0, blocks = 0, bytes = 0;
    for (const ProcessReport& p : data.processes) {
      if (category == "mismatch" || category == "unknown-free") {
        const std::string kind = category == "mismatch" ? "mismatch" : "unknown free";
        for (const ErrorGroup& e : p.errors)
          if (e.kind == kind) ++groups, blocks += e.count;
      } else if (category == "growth") {
        for (const GrowthGroup& g : p.growth) ++groups, bytes += g.live_bytes;
      } else {
        for (const LeakGroup& g : p.leaks)
          if (g.category == category && !g.suppressed)
            ++groups, blocks += g.blocks, bytes += g.bytes;
      }
    }
    v.passed = groups == 0;
    if (category == "growth")
      v.detail = v.passed ? "no allocation site grows step after step"
                          : std::to_string(groups) + " allocation sites grow across steps (" +
                                std::to_string(bytes) + " bytes live at the end)";
    else if (category == "mismatch" || category == "unknown-free")
      v.detail = std::to_string(blocks) + " " +
                 (category == "mismatch" ? "mismatched frees" : "frees of unknown pointers") +
                 " in " + std::to_string(groups) + " groups";
    else
      v.detail = std::to_string(blocks) + " " + category + " blocks (" + std::to_string(bytes) +
                 " bytes) in " + std::to_string(groups) + " groups";
    data.gates.push_back(v);
  }
  if (o.max_leaked_bytes) {
    for (const ProcessReport& p : data.processes) {
      const uint64_t leaked = leaked_bytes(p);
      data.gates.push_back({"max-leaked-bytes", leaked <= *o.max_leaked_bytes,
                            process_label(p) + " leaked " + std::to_string(leaked) +
                                " bytes (limit " + std::to_string(*o.max_leaked_bytes) + ")"});
    }
  }
  if (o.max_peak_bytes) {
    for (const ProcessReport& p : data.processes)
      data.gates.push_back({"max-peak", p.peak_bytes <= *o.max_peak_bytes,
                            process_label(p) + " peaked at " + std::to_string(p.peak_bytes) +
                                " heap bytes (limit " + std::to_string(*o.max_peak_bytes) + ")"});
  }
  data.gates_passed = std::all_of(data.gates.begin(), data.gates.end(),
                                  [](const GateVerdict& v) { return v.passed; });
}

}  // namespace

const std::vector<std::string>& report_categories() {
  static const std::vector<std::string> all = {"definite",  "indirect",     "possible",
                                               "reachable", "not-freed",    "gpu",
                                               "mismatch",  "unknown-free", "growth"};
  return all;
}

uint64_t leaked_bytes(const ProcessReport& process) {
  uint64_t bytes = 0;
  for (const LeakGroup& g : process.leaks)
    if (!g.suppressed && (g.category == "definite" || g.category == "indirect" ||
                          g.category == "possible" || g.category == "not-freed"))
      bytes += g.bytes;
  return bytes;
}

std::vector<std::string> expand_trace_paths(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(path, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".db")
          found.push_back(entry.path().string());
      if (found.empty()) throw std::runtime_error(path + ": no trace databases (*.db) in it");
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      out.push_back(path);
    } else {
      throw std::runtime_error(path + ": no such file or directory");
    }
  }
  return out;
}

ReportData build_report(const std::vector<std::string>& trace_paths, const ReportOptions& options) {
  ReportData data;
  data.title = options.title.empty() ? "memtide report" : options.title;
  data.memtide_version = MEMTIDE_ANALYSIS_VERSION;
  for (const std::string& path : trace_paths)
    data.processes.push_back(ProcessBuilder(path, options).build());
  // A run's processes in the order they started: the root first, then the
  // processes it forked or exec'd.
  std::stable_sort(data.processes.begin(), data.processes.end(),
                   [](const ProcessReport& a, const ProcessReport& b) {
                     return a.start_time_ns < b.start_time_ns;
                   });
  apply_gates(data, options);
  return data;
}

}  // namespace memtide::analysis
