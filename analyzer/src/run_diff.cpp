#include "memtide/analysis/run_diff.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <unordered_map>

#include "block_replay.h"
#include "memtide/analysis/peak.h"
#include "memtide/analysis/report_builder.h"
#include "sqlite_util.h"
#include "stack_frames.h"

namespace memtide::analysis {

namespace {

constexpr size_t kSiteFrames = 4;

std::string frame_name(const ReportFrame& f) {
  if (!f.function.empty()) return f.function;
  const size_t slash = f.module.rfind('/');
  char offset[32];
  snprintf(offset, sizeof offset, "+0x%llx", (unsigned long long)f.module_offset);
  return (slash == std::string::npos ? f.module : f.module.substr(slash + 1)) + offset;
}

// Allocation sites by name: the innermost frames outside memtide's agent.
std::string site_of(const std::vector<ReportFrame>& frames) {
  std::string site;
  size_t used = 0;
  for (const ReportFrame& f : frames) {
    if (used == kSiteFrames) break;
    if (site.size()) site += " <- ";
    site += frame_name(f);
    ++used;
  }
  return site.empty() ? "(no stack)" : site;
}

struct SiteTotals {
  int64_t bytes = 0, count = 0;
};

// Bytes and blocks allocated per stack, over the whole run.
class BytesByStack : public BlockSink {
 public:
  void block(const Block& b, const BlockEnd&) override {
    if (b.family == AllocFamily::kGpu &&
        (b.kind == EventKind::kCudaVmmMap || b.kind == EventKind::kCudaReserve))
      return;
    SiteTotals& t = totals[b.stack];
    t.bytes += int64_t(b.size);
    ++t.count;
  }
  void unmatched_free(const EventRecord&, int64_t) override {}
  void step(int64_t, const EventRecord&, int64_t, int64_t) override {}
  std::unordered_map<uint32_t, SiteTotals> totals;
};

// The agent counts the GPU events it recorded (counters.gpu_events, absent
// when none): a run without them needs no pass for device peaks.
bool recorded_gpu_events(const TraceFile& trace) {
  Statement s(trace.db(), "SELECT value FROM counters WHERE name = 'gpu_events'");
  return s.step() && s.column_int64(0) > 0;
}

RunMeasures measure(const std::string& path, const DiffOptions& options,
                    std::map<std::string, SiteTotals>& sites) {
  ReportOptions report_options;
  report_options.search_paths = options.search_paths;
  report_options.sysroot = options.sysroot;
  const ReportData report = build_report({path}, report_options);
  const ProcessReport& p = report.processes.front();
  RunMeasures m;
  m.trace = path;
  m.peak_bytes = p.peak_bytes;
  m.leaked_bytes = leaked_bytes(p);
  m.allocations = p.allocations;
  m.steps = p.step_times_ns.size();
  TraceFile trace(path);
  if (recorded_gpu_events(trace)) {
    // Only the moments are wanted: no groups, so nothing to symbolize.
    PeakOptions peak_options;
    peak_options.max_groups = 0;
    for (const PeakSnapshot& device : find_peak(trace, peak_options).devices)
      m.device_peak_bytes[device.measure] = device.moment.bytes;
  }
  StackFrames frames(trace, {options.search_paths, options.sysroot});
  BytesByStack by_stack;
  BlockReplay replay(by_stack);
  trace.for_each_event([&](const EventRecord& e, int64_t thread) { replay.event(e, thread); });
  replay.finish();
  for (const auto& [stack, totals] : by_stack.totals) {
    SiteTotals& t = sites[site_of(frames.stack(stack))];
    t.bytes += totals.bytes;
    t.count += totals.count;
  }
  return m;
}

// Scopes matched by path whose subtree bytes, peak or outliving bytes
// differ, the largest change of peak first.
std::vector<ScopeChange> changed_layers(const std::string& base, const std::string& candidate,
                                        size_t top) {
  const ScopeLifetimes before = scope_lifetimes(TraceFile(base), {});
  const ScopeLifetimes after = scope_lifetimes(TraceFile(candidate), {});
  std::vector<ScopeChange> changed;
  for (ScopeChange& c : compare_scopes(before, after))
    if (c.changed()) changed.push_back(std::move(c));
  std::stable_sort(changed.begin(), changed.end(), [](const ScopeChange& a, const ScopeChange& b) {
    if (std::llabs(a.peak_delta()) != std::llabs(b.peak_delta()))
      return std::llabs(a.peak_delta()) > std::llabs(b.peak_delta());
    return std::llabs(a.bytes_delta()) > std::llabs(b.bytes_delta());
  });
  if (changed.size() > top) changed.resize(top);
  return changed;
}

// Each device's peak in the base and the new run (0 where a run has none).
std::map<std::string, std::pair<uint64_t, uint64_t>> device_peaks_of_either(const RunDiff& d) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> both;
  for (const auto& [device, bytes] : d.base.device_peak_bytes) both[device].first = bytes;
  for (const auto& [device, bytes] : d.candidate.device_peak_bytes) both[device].second = bytes;
  return both;
}

}  // namespace

RunDiff diff_runs(const std::string& base, const std::string& candidate,
                  const DiffOptions& options) {
  RunDiff d;
  std::map<std::string, SiteTotals> base_sites, new_sites;
  d.base = measure(base, options, base_sites);
  d.candidate = measure(candidate, options, new_sites);
  d.layers_changed = changed_layers(base, candidate, options.top_layers);
  for (const auto& [site, totals] : new_sites) {
    const SiteTotals before = base_sites.count(site) ? base_sites[site] : SiteTotals{};
    if (totals.bytes > before.bytes)
      d.grown.push_back({site, before.bytes, totals.bytes, before.count, totals.count});
  }
  std::sort(d.grown.begin(), d.grown.end(), [](const SiteChange& a, const SiteChange& b) {
    return a.new_bytes - a.base_bytes > b.new_bytes - b.base_bytes;
  });
  if (d.grown.size() > options.top_sites) d.grown.resize(options.top_sites);

  if (options.max_peak_increase_percent) {
    // One verdict per memory: the host heap, then each device either run used.
    const double limit = *options.max_peak_increase_percent;
    auto gate = [&](const std::string& memory, uint64_t before, uint64_t after) {
      const double increase = before ? 100.0 * (double(after) - double(before)) / double(before)
                                     : (after ? 100.0 : 0.0);
      char detail[200];
      snprintf(detail, sizeof detail, "%s peak %llu -> %llu bytes (%+.1f%%, limit +%.1f%%)",
               memory.c_str(), (unsigned long long)before, (unsigned long long)after, increase,
               limit);
      d.gates.push_back({memory == "heap" ? "max-peak-increase" : "max-peak-increase " + memory,
                         increase <= limit, detail});
    };
    gate("heap", d.base.peak_bytes, d.candidate.peak_bytes);
    for (const auto& [device, bytes] : device_peaks_of_either(d))
      gate(device, bytes.first, bytes.second);
  }
  if (options.max_leak_increase_bytes) {
    const int64_t increase = int64_t(d.candidate.leaked_bytes) - int64_t(d.base.leaked_bytes);
    d.gates.push_back({"max-leak-increase", increase <= int64_t(*options.max_leak_increase_bytes),
                       "leaked " + std::to_string(d.base.leaked_bytes) + " -> " +
                           std::to_string(d.candidate.leaked_bytes) + " bytes (limit +" +
                           std::to_string(*options.max_leak_increase_bytes) + ")"});
  }
  d.gates_passed =
      std::all_of(d.gates.begin(), d.gates.end(), [](const GateVerdict& v) { return v.passed; });
  return d;
}

std::string render_diff_text(const RunDiff& d) {
  char line[512];
  std::string out;
  auto row = [&](const char* name, double a, double b) {
    snprintf(line, sizeof line, "%-22s %16.0f %16.0f %+10.1f%%\n", name, a, b,
             a ? 100.0 * (b - a) / a : (b ? 100.0 : 0.0));
    out += line;
  };
  snprintf(line, sizeof line, "%-22s %16s %16s %11s\n", "", "base", "new", "change");
  out += "base: " + d.base.trace + "\nnew:  " + d.candidate.trace + "\n\n" + line;
  row("heap peak bytes", double(d.base.peak_bytes), double(d.candidate.peak_bytes));
  for (const auto& [device, bytes] : device_peaks_of_either(d))
    row((device + " peak bytes").c_str(), double(bytes.first), double(bytes.second));
  row("leaked bytes", double(d.base.leaked_bytes), double(d.candidate.leaked_bytes));
  row("allocations", double(d.base.allocations), double(d.candidate.allocations));
  row("allocations per step", d.base.allocations_per_step(), d.candidate.allocations_per_step());
  if (!d.grown.empty()) out += "\nallocation sites that grew most (bytes allocated):\n";
  for (const SiteChange& c : d.grown) {
    snprintf(line, sizeof line, "  %+14lld  (%lld -> %lld bytes, %lld -> %lld blocks)  ",
             (long long)(c.new_bytes - c.base_bytes), (long long)c.base_bytes,
             (long long)c.new_bytes, (long long)c.base_count, (long long)c.new_count);
    out += line + c.site + "\n";
  }
  if (!d.layers_changed.empty())
    out += "\nlayers that changed (scope subtrees: bytes allocated, peak live, outliving):\n";
  for (const ScopeChange& c : d.layers_changed) {
    snprintf(line, sizeof line, "  peak %+12lld (%llu -> %llu)  bytes %+12lld  outliving %+12lld  ",
             (long long)c.peak_delta(), (unsigned long long)c.base_peak,
             (unsigned long long)c.new_peak, (long long)c.bytes_delta(),
             (long long)c.outliving_delta());
    out += line + c.path + (!c.in_base ? " (new)" : !c.in_new ? " (gone)" : "") + "\n";
  }
  if (!d.gates.empty()) out += "\ngates:\n";
  for (const GateVerdict& v : d.gates)
    out += std::string("  ") + (v.passed ? "pass " : "FAIL ") + v.name + ": " + v.detail + "\n";
  return out;
}

std::string render_diff_json(const RunDiff& d) {
  auto run = [](const RunMeasures& m) {
    nlohmann::ordered_json devices = nlohmann::ordered_json::object();
    for (const auto& [device, bytes] : m.device_peak_bytes) devices[device] = bytes;
    return nlohmann::ordered_json{{"trace", m.trace},
                                  {"peak_bytes", m.peak_bytes},
                                  {"device_peak_bytes", devices},
                                  {"leaked_bytes", m.leaked_bytes},
                                  {"allocations", m.allocations},
                                  {"steps", m.steps},
                                  {"allocations_per_step", m.allocations_per_step()}};
  };
  nlohmann::ordered_json j;
  j["base"] = run(d.base);
  j["new"] = run(d.candidate);
  j["grown"] = nlohmann::ordered_json::array();
  for (const SiteChange& c : d.grown)
    j["grown"].push_back({{"site", c.site},
                          {"base_bytes", c.base_bytes},
                          {"new_bytes", c.new_bytes},
                          {"base_count", c.base_count},
                          {"new_count", c.new_count}});
  j["layers_changed"] = nlohmann::ordered_json::array();
  for (const ScopeChange& c : d.layers_changed)
    j["layers_changed"].push_back({{"path", c.path},
                                   {"in_base", c.in_base},
                                   {"in_new", c.in_new},
                                   {"base_bytes", c.base_bytes},
                                   {"new_bytes", c.new_bytes},
                                   {"base_peak", c.base_peak},
                                   {"new_peak", c.new_peak},
                                   {"base_outliving", c.base_outliving},
                                   {"new_outliving", c.new_outliving}});
  j["gates_passed"] = d.gates_passed;
  j["gates"] = nlohmann::ordered_json::array();
  for (const GateVerdict& v : d.gates)
    j["gates"].push_back({{"name", v.name}, {"passed", v.passed}, {"detail", v.detail}});
  return j.dump(2) + "\n";
}

}  // namespace memtide::analysis
