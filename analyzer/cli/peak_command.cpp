// `memtide peak`: the high-water marks, when they happened and what was live.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "arguments.h"
#include "commands.h"
#include "memtide/analysis/frames_json.h"
#include "memtide/analysis/peak.h"

namespace memtide::cli {

namespace {
constexpr const char* kUsage =
    "usage: memtide peak FILE [--json] [--max-groups N] [--search-path DIR]... [--sysroot DIR]\n"
    "  The high-water mark of live bytes: host heap (pool sub-allocations shown\n"
    "  inside their pools' reserve), each GPU device, and all together; when it\n"
    "  happened (time, step, thread, scope); what was live then by scope and by\n"
    "  stack; the peak of every step and of every phase.\n"
    "Exit status: 0 on success, 2 for a usage error or an unreadable trace.\n";

using analysis::LiveGroup;
using analysis::PeakMoment;
using analysis::PeakSnapshot;

std::string site(const LiveGroup& g) {
  for (const analysis::ReportFrame& f : g.frames) {
    if (f.function.empty()) continue;
    std::string s = f.function;
    if (!f.file.empty()) s += " (" + f.file + ":" + std::to_string(f.line) + ")";
    return s;
  }
  return g.frames.empty() ? "(no stack)" : g.frames.front().module;
}

nlohmann::ordered_json moment_json(const PeakMoment& m) {
  return {{"bytes", m.bytes},         {"seq", m.seq},    {"time_ns", m.time_ns}, {"step", m.step},
          {"thread_id", m.thread_id}, {"scope", m.scope}};
}

nlohmann::ordered_json groups_json(const std::vector<LiveGroup>& groups, bool stacks) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const LiveGroup& g : groups) {
    nlohmann::ordered_json j = {{"memory", g.memory}, {"bytes", g.bytes}, {"blocks", g.blocks}};
    if (stacks) {
      j["stack"] = g.stack;
      j["frames"] = analysis::frames_json(g.frames);
    } else {
      j["scope"] = g.scope;
    }
    out.push_back(std::move(j));
  }
  return out;
}

nlohmann::ordered_json snapshot_json(const PeakSnapshot& s) {
  return {{"measure", s.measure},
          {"moment", moment_json(s.moment)},
          {"by_scope", groups_json(s.by_scope, false)},
          {"by_stack", groups_json(s.by_stack, true)},
          {"inside_pools", groups_json(s.inside_pools, false)}};
}

std::string render_json(const analysis::PeakReport& p) {
  nlohmann::ordered_json j;
  j["trace"] = p.trace;
  j["events"] = p.events;
  j["host"] = snapshot_json(p.host);
  j["total"] = snapshot_json(p.total);
  j["devices"] = nlohmann::ordered_json::array();
  for (const PeakSnapshot& d : p.devices) j["devices"].push_back(snapshot_json(d));
  j["steps"] = nlohmann::ordered_json::array();
  for (const analysis::StepPeak& s : p.steps)
    j["steps"].push_back({{"step", s.step},
                          {"host_bytes", s.host_bytes},
                          {"total_bytes", s.total_bytes},
                          {"time_ns", s.time_ns}});
  j["phases"] = nlohmann::ordered_json::array();
  for (const analysis::PhasePeak& ph : p.phases)
    j["phases"].push_back({{"phase", ph.phase}, {"moment", moment_json(ph.moment)}});
  j["pools"] = nlohmann::ordered_json::array();
  for (const analysis::PoolPeak& pool : p.pools)
    j["pools"].push_back({{"id", pool.id},
                          {"name", pool.name},
                          {"sub_peak_bytes", pool.sub_peak_bytes},
                          {"reserve_peak_bytes", pool.reserve_peak_bytes}});
  j["missing_modules"] = p.missing_modules;
  return j.dump(2) + "\n";
}

std::string moment_text(const PeakMoment& m) {
  char line[512];
  snprintf(line, sizeof line, "%llu bytes at %llu ns (seq %llu), step %lld, thread %lld, scope %s",
           (unsigned long long)m.bytes, (unsigned long long)m.time_ns, (unsigned long long)m.seq,
           (long long)m.step, (long long)m.thread_id, m.scope.empty() ? "(none)" : m.scope.c_str());
  return line;
}

std::string snapshot_text(const PeakSnapshot& s, size_t rows) {
  std::string out = "\n" + s.measure + " peak: " + moment_text(s.moment) + "\n";
  char line[512];
  auto table = [&](const char* title, const std::vector<LiveGroup>& groups, bool stacks) {
    if (groups.empty()) return;
    out += std::string("  ") + title + ":\n";
    for (size_t i = 0; i < groups.size() && i < rows; ++i) {
      const LiveGroup& g = groups[i];
      snprintf(line, sizeof line, "    %14llu B %8llu blocks  %-18s ", (unsigned long long)g.bytes,
               (unsigned long long)g.blocks, g.memory.c_str());
      out += line + (stacks ? site(g) : (g.scope.empty() ? "(no scope)" : g.scope)) + "\n";
    }
  };
  table("live by scope", s.by_scope, false);
  table("live by stack", s.by_stack, true);
  table("inside pools, by scope", s.inside_pools, false);
  return out;
}

std::string render_text(const analysis::PeakReport& p) {
  std::string out = "trace: " + p.trace + "\n";
  out += snapshot_text(p.host, 10);
  for (const PeakSnapshot& d : p.devices) out += snapshot_text(d, 10);
  if (!p.devices.empty()) out += snapshot_text(p.total, 10);
  char line[256];
  if (!p.steps.empty())
    out += "\npeak of each step (bytes):\n      step           host          total\n";
  for (const analysis::StepPeak& s : p.steps) {
    snprintf(line, sizeof line, "  %8s %14llu %14llu\n",
             s.step < 0 ? "before" : std::to_string(s.step).c_str(),
             (unsigned long long)s.host_bytes, (unsigned long long)s.total_bytes);
    out += line;
  }
  if (!p.phases.empty()) out += "\nhighest total reached by an allocation in each phase:\n";
  for (const analysis::PhasePeak& ph : p.phases)
    out += "  " + ph.phase + ": " + moment_text(ph.moment) + "\n";
  if (!p.pools.empty()) out += "\npools:\n";
  for (const analysis::PoolPeak& pool : p.pools) {
    snprintf(line, sizeof line,
             "  %-30s sub-allocations peak %llu bytes, reserve peak %llu bytes\n",
             pool.name.c_str(), (unsigned long long)pool.sub_peak_bytes,
             (unsigned long long)pool.reserve_peak_bytes);
    out += line;
  }
  for (const std::string& m : p.missing_modules) out += "missing binary: " + m + "\n";
  return out;
}

}  // namespace

int peak_command(const std::vector<std::string>& args) {
  bool json = false;
  std::string file;
  analysis::PeakOptions options;
  bool ok = true;
  Arguments a("peak", kUsage, args);
  while (a.next()) {
    if (a.is("--help") || a.is("-h")) {
      fputs(kUsage, stdout);
      return kExitOk;
    } else if (a.is("--json")) {
      json = true;
    } else if (a.is("--max-groups")) {
      const std::optional<size_t> n = a.positive_count();
      if (!n) return kExitUsage;
      options.max_groups = *n;
    } else if (a.symbol_option(options.search_paths, options.sysroot, ok)) {
      if (!ok) return kExitUsage;
    } else if (a.unknown_option() || !a.take_single_file(file)) {
      return kExitUsage;
    }
  }
  if (file.empty()) return a.usage_error("no trace file given");
  return print_for_trace("peak", file, [&](const analysis::TraceFile& trace) {
    const analysis::PeakReport p = analysis::find_peak(trace, options);
    return json ? render_json(p) : render_text(p);
  });
}

}  // namespace memtide::cli
