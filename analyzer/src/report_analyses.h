// The analyses the HTML report adds to a process (ReportOptions::analyses):
// the per-layer table, the lifetimes of one step's blocks, the peak
// breakdown, temporaries and fragmentation over time. Each is one more pass
// over the trace through its own aggregator.
#pragma once

#include "memtide/analysis/report_builder.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

void add_analyses(const TraceFile& trace, const ReportOptions& options, ProcessReport& process);

}  // namespace memtide::analysis
