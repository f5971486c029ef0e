#include "memtide/analysis/report_builder.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <tuple>

#include "memtide/analysis/allocation_index.h"
#include "memtide_common/event.h"
#include "memtide_common/gpu_event.h"
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
      : trace_(path), options_(options), frames_(trace_, {options.search_paths, options.sysroot}) {}

  ProcessReport build() {
    const IndexStats index = ensure_index(trace_);
    ProcessReport p;
    p.trace_path = trace_.path();
    describe_process(p);
    p.peak_bytes = uint64_t(std::max<int64_t>(0, index.peak_heap_bytes));
    p.peak_time_ns = index.peak_time_ns;
    count_blocks(p);
    add_leaks(p);
    add_errors(p);
    add_growth(p);
    add_timeline(p);
    p.missing_modules = frames_.missing_modules();
    frames_.save();
    return p;
  }

 private:
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
    Statement steps(trace_.db(), "SELECT time_ns FROM steps ORDER BY seq");
    while (steps.step()) p.step_times_ns.push_back(uint64_t(steps.column_int64(0)));
  }

  void count_blocks(ProcessReport& p) {
    Statement s(trace_.db(), "SELECT count(*), count(free_seq) FROM allocations");
    s.step();
    p.allocations = uint64_t(s.column_int64(0));
    p.frees = uint64_t(s.column_int64(1));
  }

  // Blocks live at exit, grouped by category, stack, scope and device.
  void add_leaks(ProcessReport& p) {
    std::string sql =
        "SELECT a.stack, a.scope, a.device, a.family, a.kind, sum(a.size), count(*)" +
        std::string(scan_done_ ? ", coalesce(l.category, 0) " : ", 0 ") + "FROM live_at_end a " +
        (scan_done_ ? "LEFT JOIN leak_scan l ON l.address = a.address AND a.family IN (1, 2, 3) "
                    : "") +
        "WHERE a.family IN (1, 2, 3, 6) AND a.kind NOT IN (101, 102) "
        "GROUP BY 1, 2, 3, 4, 8";
    Statement s(trace_.db(), sql.c_str());
    std::map<std::tuple<std::string, uint32_t, uint32_t, std::string>, LeakGroup> groups;
    while (s.step()) {
      const bool gpu = s.column_int64(3) == int64_t(AllocFamily::kGpu);
      const std::string category = gpu ? "gpu" : scan_category(s.column_int64(7));
      const std::string device = gpu ? "cuda:" + std::to_string(s.column_int64(2)) : "host";
      const uint32_t stack = uint32_t(s.column_int64(0)), scope = uint32_t(s.column_int64(1));
      LeakGroup& g = groups[{category, stack, scope, device}];
      g.category = category;
      g.device = device;
      g.bytes += uint64_t(s.column_int64(5));
      g.blocks += uint64_t(s.column_int64(6));
      if (g.frames.empty()) {
        g.frames = frames_.stack(stack);
        g.scope = scope_path(trace_, scope);
      }
    }
    for (auto& [key, g] : groups) {
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

  void add_errors(ProcessReport& p) {
    Statement mismatches(trace_.db(),
                         "SELECT kind, free_kind, stack, count(*) FROM allocations "
                         "WHERE mismatch = 1 GROUP BY 1, 2, 3 ORDER BY 4 DESC");
    while (mismatches.step()) {
      ErrorGroup e;
      e.kind = "mismatch";
      e.detail = std::string(event_kind_name(EventKind(mismatches.column_int64(0)))) +
                 " freed by " + event_kind_name(EventKind(mismatches.column_int64(1)));
      e.count = uint64_t(mismatches.column_int64(3));
      e.frames = frames_.stack(uint32_t(mismatches.column_int64(2)));
      if (!options_.suppressions.matches("mismatch", e.frames)) p.errors.push_back(std::move(e));
    }
    Statement unknown(trace_.db(),
                      "SELECT kind, stack, count(*) FROM unmatched_frees "
                      "GROUP BY 1, 2 ORDER BY 3 DESC");
    while (unknown.step()) {
      ErrorGroup e;
      e.kind = "unknown free";
      e.detail = std::string(event_kind_name(EventKind(unknown.column_int64(0)))) +
                 " of a pointer never allocated (or allocated before tracing began)";
      e.count = uint64_t(unknown.column_int64(2));
      e.frames = frames_.stack(uint32_t(unknown.column_int64(1)));
      if (!options_.suppressions.matches("unknown-free", e.frames))
        p.errors.push_back(std::move(e));
    }
  }

  // Blocks allocated after the first step and still live at the end, from
  // allocation sites that left such blocks in at least half of the steps:
  // what grows step after step until the run dies of it.
  void add_growth(ProcessReport& p) {
    Statement last(trace_.db(), "SELECT coalesce(max(step), -1) FROM steps");
    last.step();
    const int64_t last_step = last.column_int64(0);
    if (last_step < 3) return;
    const int64_t min_steps = std::max<int64_t>(3, last_step / 2);
    Statement s(trace_.db(),
                "SELECT stack, scope, count(DISTINCT step), sum(size), min(step), max(step) "
                "FROM live_at_end WHERE step >= 1 AND family IN (1, 2, 3, 5, 6) "
                "GROUP BY stack, scope HAVING count(DISTINCT step) >= ? ORDER BY 4 DESC");
    s.bind(1, min_steps);
    while (s.step() && p.growth.size() < options_.max_groups) {
      GrowthGroup g;
      g.frames = frames_.stack(uint32_t(s.column_int64(0)));
      if (options_.suppressions.matches("growth", g.frames)) continue;
      g.scope = scope_path(trace_, uint32_t(s.column_int64(1)));
      g.steps = uint64_t(s.column_int64(2));
      g.live_bytes = uint64_t(s.column_int64(3));
      const int64_t span = std::max<int64_t>(1, s.column_int64(5) - s.column_int64(4) + 1);
      g.bytes_per_step = g.live_bytes / uint64_t(span);
      p.growth.push_back(std::move(g));
    }
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
  apply_gates(data, options);
  return data;
}

}  // namespace memtide::analysis
