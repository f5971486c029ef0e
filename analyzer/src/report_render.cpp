// Text, JSON and JUnit renderings of a ReportData (the HTML one is
// html_report.cpp).
#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>

#include "memtide/analysis/frames_json.h"
#include "memtide/analysis/report_builder.h"
#include "text_format.h"

namespace memtide::analysis {

namespace {

std::string frame_text(const ReportFrame& f) {
  std::string where;
  if (!f.function.empty()) {
    where = f.function;
    if (!f.file.empty()) where += " (" + f.file + ":" + std::to_string(f.line) + ")";
  } else {
    char offset[32];
    snprintf(offset, sizeof offset, "+0x%" PRIx64, f.module_offset);
    where = f.module + offset;
  }
  if (f.inlined) where += " [inlined]";
  return where;
}

std::string stack_text(const std::vector<ReportFrame>& frames, size_t max_frames) {
  std::string out;
  for (size_t i = 0; i < frames.size() && i < max_frames; ++i)
    out += "      #" + std::to_string(i) + " " + frame_text(frames[i]) + "\n";
  if (frames.size() > max_frames)
    out += "      ... " + std::to_string(frames.size() - max_frames) + " more frames\n";
  if (frames.empty()) out += "      (no stack recorded)\n";
  return out;
}

std::string xml_escape(const std::string& s) {
  return escape_markup(s);
}

}  // namespace

std::string render_text_report(const ReportData& data) {
  std::string out = data.title + "\n";
  for (const ProcessReport& p : data.processes) {
    out += "\nprocess " + std::to_string(p.pid) + ": " + p.command_line + "\n";
    out += "  trace " + p.trace_path + ", ended by " + p.end_reason + "\n";
    out += "  " + std::to_string(p.allocations) + " allocations, " + std::to_string(p.frees) +
           " frees, heap peak " + human_bytes(p.peak_bytes) + "\n";
    for (const std::string& m : p.missing_modules) out += "  no symbols for " + m + "\n";
    if (!p.leak_scan_done)
      out +=
          "  no leak scan at exit (the process did not exit normally, or the scan was off):\n"
          "  blocks live at the end are reported as not freed\n";
    std::map<std::string, std::pair<uint64_t, uint64_t>> totals;  // category -> blocks, bytes
    for (const LeakGroup& g : p.leaks)
      if (!g.suppressed) totals[g.category].first += g.blocks, totals[g.category].second += g.bytes;
    for (const std::string& c : report_categories()) {
      auto it = totals.find(c);
      if (it == totals.end()) continue;
      out += "  " + c + ": " + std::to_string(it->second.first) + " blocks, " +
             human_bytes(it->second.second) + "\n";
    }
    if (p.suppressed_blocks)
      out += "  suppressed: " + std::to_string(p.suppressed_blocks) + " blocks, " +
             human_bytes(p.suppressed_bytes) + "\n";
    size_t shown = 0;
    for (const LeakGroup& g : p.leaks) {
      if (g.suppressed || g.category == "reachable") continue;
      if (++shown > 50) break;
      out += "\n  " + g.category + (g.device == "host" ? "" : " on " + g.device) + ": " +
             human_bytes(g.bytes) + " in " + std::to_string(g.blocks) + " blocks" +
             (g.scope.empty() ? "" : " in scope " + g.scope) + "\n";
      out += stack_text(g.frames, 12);
    }
    for (const ErrorGroup& e : p.errors) {
      out += "\n  " + e.kind + ": " + e.detail + " (" + std::to_string(e.count) + " times)\n";
      out += stack_text(e.frames, 12);
    }
    for (const GrowthGroup& g : p.growth) {
      out += "\n  growth" + (g.device == "host" ? "" : " on " + g.device) + ": " +
             human_bytes(g.bytes_per_step) + " per step over " + std::to_string(g.steps) +
             " steps, " + human_bytes(g.live_bytes) + " live at the end" +
             (g.scope.empty() ? "" : " in scope " + g.scope) + "\n";
      out += stack_text(g.frames, 12);
    }
  }
  if (!data.gates.empty()) {
    out += "\ngates:\n";
    for (const GateVerdict& v : data.gates)
      out += std::string("  ") + (v.passed ? "pass " : "FAIL ") + v.name + ": " + v.detail + "\n";
  }
  return out;
}

std::string render_json_report(const ReportData& data) {
  nlohmann::ordered_json j;
  j["title"] = data.title;
  j["memtide_version"] = data.memtide_version;
  j["gates_passed"] = data.gates_passed;
  j["gates"] = nlohmann::ordered_json::array();
  for (const GateVerdict& v : data.gates)
    j["gates"].push_back({{"name", v.name}, {"passed", v.passed}, {"detail", v.detail}});
  j["processes"] = nlohmann::ordered_json::array();
  for (const ProcessReport& p : data.processes) {
    nlohmann::ordered_json pj;
    pj["pid"] = p.pid;
    pj["parent_pid"] = p.parent_pid;
    pj["trace"] = p.trace_path;
    pj["command_line"] = p.command_line;
    pj["end_reason"] = p.end_reason;
    pj["ended_cleanly"] = p.ended_cleanly;
    pj["leak_scan"] = p.leak_scan_done;
    pj["duration_seconds"] = p.duration_seconds;
    pj["allocations"] = p.allocations;
    pj["frees"] = p.frees;
    pj["peak_bytes"] = p.peak_bytes;
    pj["peak_time_ns"] = p.peak_time_ns;
    pj["steps"] = p.step_times_ns.size();
    pj["leaked_bytes"] = leaked_bytes(p);
    pj["suppressed_blocks"] = p.suppressed_blocks;
    pj["suppressed_bytes"] = p.suppressed_bytes;
    pj["missing_modules"] = p.missing_modules;
    pj["leaks"] = nlohmann::ordered_json::array();
    for (const LeakGroup& g : p.leaks)
      pj["leaks"].push_back({{"category", g.category},
                             {"bytes", g.bytes},
                             {"blocks", g.blocks},
                             {"scope", g.scope},
                             {"device", g.device},
                             {"suppressed", g.suppressed},
                             {"frames", frames_json(g.frames)}});
    pj["errors"] = nlohmann::ordered_json::array();
    for (const ErrorGroup& e : p.errors)
      pj["errors"].push_back({{"kind", e.kind},
                              {"detail", e.detail},
                              {"count", e.count},
                              {"frames", frames_json(e.frames)}});
    pj["growth"] = nlohmann::ordered_json::array();
    for (const GrowthGroup& g : p.growth)
      pj["growth"].push_back({{"scope", g.scope},
                              {"bytes_per_step", g.bytes_per_step},
                              {"steps", g.steps},
                              {"live_bytes", g.live_bytes},
                              {"frames", frames_json(g.frames)}});
    j["processes"].push_back(pj);
  }
  return j.dump(2) + "\n";
}

// One test suite per process and one per report-wide gate set, so CI
// dashboards list each gate as a test case that passed or failed.
std::string render_junit_report(const ReportData& data) {
  size_t failures = 0;
  for (const GateVerdict& v : data.gates) failures += !v.passed;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"" + xml_escape(data.title) + "\" tests=\"" +
         std::to_string(data.gates.size()) + "\" failures=\"" + std::to_string(failures) + "\">\n";
  out += "  <testsuite name=\"memtide gates\" tests=\"" + std::to_string(data.gates.size()) +
         "\" failures=\"" + std::to_string(failures) + "\">\n";
  for (const GateVerdict& v : data.gates) {
    out += "    <testcase classname=\"memtide\" name=\"" + xml_escape(v.name) + "\"";
    if (v.passed) {
      out += ">\n      <system-out>" + xml_escape(v.detail) + "</system-out>\n    </testcase>\n";
    } else {
      out += ">\n      <failure message=\"" + xml_escape(v.detail) + "\" type=\"memtide." +
             xml_escape(v.name) + "\">" + xml_escape(v.detail) + "</failure>\n    </testcase>\n";
    }
  }
  out += "  </testsuite>\n";
  for (const ProcessReport& p : data.processes) {
    out += "  <testsuite name=\"process " + std::to_string(p.pid) + ": " +
           xml_escape(p.command_line) + "\" tests=\"0\" failures=\"0\">\n";
    out += "    <system-out>" +
           xml_escape(render_text_report({data.title, data.memtide_version, {}, true, {p}})) +
           "</system-out>\n  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace memtide::analysis
