// The peak (`memtide peak`): the high-water marks of live bytes, when each
// happened, and what was live at that moment by scope and by stack (a flame
// graph's worth of data), plus the peak of every step and of every phase.
//
// Measures:
// - host: live heap bytes (requested sizes; malloc family and operator new),
//   a pool's backing blocks included; pool sub-allocations live inside those
//   and are shown apart (`inside_pools`), never added on top;
// - cuda:N: live GPU memory of device N (device, managed, async, VMM physical,
//   module globals, graph memory; not pinned host memory, VMM mappings or
//   address reservations, which are not device bytes);
// - total: host + every device.
// The moment of a peak is the allocation that reached it: its time, step,
// thread and the scope that thread was in.
//
// One pass: the live bytes by (memory, stack, scope) are kept as a
// snapshot plus a journal of changes since it; a new maximum only records
// the journal position, and the journal is folded into the snapshot when it
// grows past twice the snapshot's size, materialising the state at the
// recorded positions on the way. Work stays O(1) amortised per event and
// memory bounded by the live groups, where copying the state at every new
// maximum would cost O(live) per allocation while memory ramps up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct PeakMoment {
  uint64_t bytes = 0;
  uint64_t seq = 0, time_ns = 0;  // of the allocation that reached it; 0 when never
  int64_t step = -1;              // -1 before the first step
  int64_t thread_id = 0;
  std::string scope;  // path; "" outside every scope
};

// Live bytes at a peak, grouped by scope or by stack.
struct LiveGroup {
  std::string memory;  // "heap", "pool reserve NAME", "pool NAME", "cuda:N"
  std::string scope;   // path, "" for none (by-scope groups)
  uint32_t stack = 0;  // by-stack groups
  std::vector<ReportFrame> frames;
  uint64_t bytes = 0, blocks = 0;
};

struct PeakSnapshot {
  std::string measure;  // "host", "total", "cuda:N"
  PeakMoment moment;
  std::vector<LiveGroup> by_scope, by_stack;  // largest first
  std::vector<LiveGroup> inside_pools;        // host: pool sub-allocations by scope
};

struct StepPeak {
  int64_t step = -1;
  uint64_t host_bytes = 0, total_bytes = 0;
  uint64_t time_ns = 0;  // when the total peak of the step was reached
};

// The highest total live bytes reached by an allocation made in a scope of
// this phase (scope_lifetimes.h defines phases).
struct PhasePeak {
  std::string phase;
  PeakMoment moment;
};

struct PoolPeak {
  int64_t id = 0;
  std::string name;
  uint64_t sub_peak_bytes = 0, reserve_peak_bytes = 0;
};

struct PeakReport {
  std::string trace;
  PeakSnapshot host, total;
  std::vector<PeakSnapshot> devices;
  std::vector<StepPeak> steps;  // in step order; step -1 is before the first
  std::vector<PhasePeak> phases;
  std::vector<PoolPeak> pools;
  uint64_t events = 0;
  std::vector<std::string> missing_modules;  // binaries the symbolizer did not find
};

struct PeakOptions {
  size_t max_groups = 50;  // per snapshot and grouping
  std::vector<std::string> search_paths;
  std::string sysroot;
};

// Throws TraceError.
PeakReport find_peak(const TraceFile& trace, const PeakOptions& options);

}  // namespace memtide::analysis
