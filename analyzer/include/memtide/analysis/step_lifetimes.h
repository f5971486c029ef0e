// The lifetimes of one training step's blocks, for a Gantt chart (the HTML
// report's "lifetimes of the peak step" and memtide-gui's lifetime lanes):
// every block allocated during the step, heap, pool sub-allocation or GPU
// memory (not VMM mappings or reservations), as a bar from its allocation to
// its free, with its layer (one lane each), scope, stack and size. One pass
// over the events.
//
//   analysis::TraceFile trace("run.db");
//   analysis::StepGantt g = analysis::step_lifetimes(trace, 3, {});
//   for (const analysis::LifetimeBar& bar : g.bars) ...  // by allocation time
#pragma once

#include <cstddef>
#include <cstdint>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct StepLifetimesOptions {
  // The largest blocks kept; the rest are counted in bars_left_out.
  size_t max_bars = 400;
};

// Throws TraceError. A step the trace never reached gives no bars (and the
// window of the step's start until the trace's end).
StepGantt step_lifetimes(const TraceFile& trace, int64_t step, const StepLifetimesOptions& options);

}  // namespace memtide::analysis
