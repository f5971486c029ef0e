// Builds a ReportData from traces: leaks (classified by the agent's exit scan
// where it ran, "not freed" otherwise) grouped by stack, scope and device;
// mismatched and unknown frees; growth across training steps; the memory
// timeline and peak; and the verdicts of the gates a CI job asked for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/suppressions.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct ReportOptions {
  // Categories that fail the report when present (unsuppressed): definite,
  // indirect, possible, reachable, not-freed, mismatch, unknown-free,
  // growth, gpu.
  std::vector<std::string> fail_on;
  std::optional<uint64_t> max_leaked_bytes;  // definite + indirect + possible (+ not-freed)
  std::optional<uint64_t> max_peak_bytes;    // host heap high-water mark, per process
  Suppressions suppressions;
  std::vector<std::string> search_paths;  // for binaries moved since the run
  std::string sysroot;
  size_t max_groups = 200;  // per process and table
  // Also run the layer, peak, temporaries and fragmentation analyses (four
  // more passes over each trace) for the HTML report's extra sections.
  bool analyses = false;
  std::string title;
  // Every trace file the report opens reports to it and stops when it is
  // cancelled (ScanCancelled); nullptr for none.
  ScanControl* scan_control = nullptr;
};

// The categories --fail-on accepts, in report order.
const std::vector<std::string>& report_categories();

// Expands directories into the trace databases they hold (sorted); throws
// std::runtime_error for a path that does not exist.
std::vector<std::string> expand_trace_paths(const std::vector<std::string>& paths);

// Throws TraceError for an unreadable trace.
ReportData build_report(const std::vector<std::string>& trace_paths, const ReportOptions& options);

// Leaked bytes of a process as the gates count them.
uint64_t leaked_bytes(const ProcessReport& process);

std::string render_text_report(const ReportData& data);
std::string render_json_report(const ReportData& data);
std::string render_junit_report(const ReportData& data);

}  // namespace memtide::analysis
