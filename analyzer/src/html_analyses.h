// The HTML report's analysis sections of one process: per-layer table, the
// lifetimes of one step's blocks (a Gantt in inline SVG), the peak breakdown
// with an icicle of stacks, temporaries and fragmentation over time.
#pragma once

#include <string>

#include "memtide/analysis/report_data.h"

namespace memtide::analysis {

void write_analyses(std::string& out, const ProcessReport& process);

// Their style rules, appended to the page's stylesheet.
extern const char* const kAnalysesStyle;

}  // namespace memtide::analysis
