// What memtide-gui loads when a trace is opened, before any page asks for
// more: enough for the summary page and the layer table. Plain data, built
// off the UI thread by TraceLoader and shared read-only by every page.
#pragma once

#include <cstdint>
#include <string>

#include "memtide/analysis/allocation_index.h"
#include "memtide/analysis/peak.h"
#include "memtide/analysis/report_data.h"
#include "memtide/analysis/scope_lifetimes.h"
#include "memtide/analysis/summary.h"

namespace memtide::gui {

struct TraceOverview {
  std::string path;
  // What the tables say (describe_trace: no pass over the events), with the
  // steps counted by the report.
  analysis::TraceSummary summary;
  analysis::IndexStats index;
  std::string index_error;  // why the allocation index could not be built; empty when it was
  // The report as `memtide report` builds it for this one trace (leaks,
  // errors, growth, gates, timeline points), without the HTML analyses.
  analysis::ReportData report;
  analysis::ScopeLifetimes layers;
  analysis::PeakReport peak;

  const analysis::ProcessReport* process() const {
    return report.processes.empty() ? nullptr : &report.processes.front();
  }
  uint64_t start_ns() const { return summary.first_time_ns; }
  uint64_t end_ns() const { return summary.last_time_ns; }
};

}  // namespace memtide::gui
