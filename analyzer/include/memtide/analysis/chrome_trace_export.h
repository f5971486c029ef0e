// A trace as Trace Event Format JSON (the JSON object form), which Perfetto
// (ui.perfetto.dev) and chrome://tracing open:
//   - counters ("ph":"C", category "memory"): live heap, mmap and pool bytes
//     and RSS from the samples table; per GPU device the live bytes by memory
//     class, and the driver's used bytes where NVML gave them (gpu_samples);
//   - scopes as duration events ("ph":"B"/"E") on their thread, named by the
//     scope's own name, the full path in args.path;
//   - steps ("step N", process-wide) and marks (on their thread) as instant
//     events ("ph":"i");
//   - metadata ("ph":"M") naming the process and its threads.
// Timestamps are microseconds since the process start (meta.start_time_ns)
// with nanosecond decimals; pid and tid are the kernel's.
//
//   analysis::TraceFile trace("run.db");
//   std::ofstream out("run.json");
//   analysis::write_chrome_trace(trace, out);
#pragma once

#include <cstdint>
#include <ostream>

#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct ChromeTraceStats {
  uint64_t events_read = 0;
  uint64_t trace_events = 0;  // JSON events written
  uint64_t scopes = 0;        // B/E pairs
  // Scopes still open when the trace ended: closed at its end time.
  uint64_t scopes_open_at_end = 0;
  // Exits of scopes the thread had not entered in this trace (a forked
  // child leaving its parent's scope): no event.
  uint64_t unmatched_scope_exits = 0;
};

// Streams the samples and the events once; memory follows the threads' open
// scopes, not the trace's length. Throws TraceError.
ChromeTraceStats write_chrome_trace(const TraceFile& trace, std::ostream& out);

}  // namespace memtide::analysis
