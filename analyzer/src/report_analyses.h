// The analyses the HTML report adds to a process (ReportOptions::analyses):
// the per-layer table, the lifetimes of one step's blocks, the peak
// breakdown, temporaries and fragmentation over time. Each is one more pass
// over the trace through its own aggregator, run beside the report's own.
#pragma once

#include <future>
#include <string>

#include "memtide/analysis/report_builder.h"

namespace memtide::analysis {

struct AnalysesResult {
  std::vector<LayerRow> layers;
  StepGantt gantt;
  PeakBreakdown peak_breakdown;
  std::vector<TemporaryRow> temporaries;
  std::vector<FragmentationSample> overhead;
  std::vector<ExternalFragmentationSample> fragmentation;
  void move_into(ProcessReport& process);
};

// Starts the passes in threads of their own; get() waits for them all (and
// rethrows what a pass threw).
std::future<AnalysesResult> start_analyses(const std::string& trace_path,
                                           const ReportOptions& options);

}  // namespace memtide::analysis
