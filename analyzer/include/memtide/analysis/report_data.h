// What a report says, independent of how it is rendered: `memtide report`
// fills one ReportData from one or more traces and hands it to the text,
// JSON, JUnit and HTML renderers. Plain data: renderers never read a trace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace memtide::analysis {

// One frame of a stack, symbolized where the binary was found.
struct ReportFrame {
  std::string function;  // demangled; empty when unknown
  std::string file;      // source file; empty when unknown
  int line = 0;          // 0 when unknown
  std::string module;    // path of the binary
  uint64_t module_offset = 0;
  bool inlined = false;  // an inlined call inside the next (outer) frame
};

// Why a gate failed, or that it passed.
struct GateVerdict {
  std::string name;  // "definite", "max-leaked-bytes", "max-peak", ...
  bool passed = true;
  std::string detail;  // "3 definitely lost blocks (4096 bytes) in 2 groups"
};

// Blocks still live at exit that share a category, an allocation stack and a scope.
struct LeakGroup {
  std::string category;  // "definite", "indirect", "possible", "reachable", "not freed"
  uint64_t bytes = 0;
  uint64_t blocks = 0;
  std::string scope;                // scope path at allocation, empty for none
  std::vector<ReportFrame> frames;  // innermost first
  bool suppressed = false;
  std::string device;  // "host" or "cuda:N"
};

// Errors other than leaks: a block freed by the wrong API, a free of a
// pointer never allocated.
struct ErrorGroup {
  std::string kind;    // "mismatch" or "unknown free"
  std::string detail;  // "new[] freed by free"
  uint64_t count = 0;
  std::vector<ReportFrame> frames;  // stack of the allocation (mismatch) or of the free
};

// Blocks allocated in one step and still live many steps later.
struct GrowthGroup {
  std::string scope;
  std::vector<ReportFrame> frames;
  uint64_t bytes_per_step = 0;  // median growth over the steps considered
  uint64_t steps = 0;           // steps over which it grew
  uint64_t live_bytes = 0;      // at the end
  std::string device = "host";  // or "cuda:N"
};

// One point of the memory-over-time chart.
struct TimelinePoint {
  uint64_t time_ns = 0;
  uint64_t heap_bytes = 0;  // live heap bytes requested
  uint64_t mmap_bytes = 0;  // live mapped bytes
  uint64_t gpu_bytes = 0;   // live GPU memory, all devices
  uint64_t rss_bytes = 0;   // 0 when not sampled
};

// One scope of the per-layer table (subtree totals; see scope_lifetimes.h).
struct LayerRow {
  std::string path;
  int depth = 1;
  std::string phase;
  uint64_t allocations = 0, bytes = 0, pool_bytes = 0;
  uint64_t peak_live_bytes = 0, outliving_bytes = 0, live_at_step_end_bytes = 0;
  uint64_t median_lifetime_ns = 0, p95_lifetime_ns = 0;
};

// A block allocated during the step the Gantt shows.
struct LifetimeBar {
  std::string layer;                  // the layer of its scope ("" outside every scope)
  std::string scope;                  // its scope's path ("" outside every scope)
  std::string memory;                 // "heap", "pool", "cuda:N"
  uint64_t start_ns = 0, end_ns = 0;  // end_ns 0: not freed before the trace ended
  uint64_t bytes = 0;
  uint32_t stack = 0;  // allocation stack id (Symbolizer::stack), 0 for none
  int64_t thread_id = 0;
};

struct StepGantt {
  int64_t step = -1;                  // -1: no step shown
  uint64_t start_ns = 0, end_ns = 0;  // the step's window
  std::vector<std::string> layers;    // one lane each, in first-allocation order
  std::vector<LifetimeBar> bars;      // the largest blocks of the step
  uint64_t bars_left_out = 0;
};

// One rectangle of the icicle of stacks live at the peak: `depth` 0 is the
// outermost frame; offset and bytes lay it out along the peak's bytes.
struct IcicleNode {
  std::string name;
  int depth = 0;
  uint64_t offset = 0, bytes = 0;
};

struct PeakBreakdown {
  bool found = false;
  std::string measure;  // "total" (host and GPU) or "host"
  uint64_t bytes = 0, time_ns = 0;
  int64_t step = -1;
  std::string scope;
  std::vector<std::pair<std::string, uint64_t>> by_scope;  // largest first
  std::vector<IcicleNode> icicle;
  uint64_t icicle_bytes = 0;  // the bytes the icicle covers (its groups' total)
};

struct TemporaryRow {
  std::vector<ReportFrame> frames;
  std::string scope;
  uint64_t allocations = 0, temporaries = 0, temporary_bytes = 0;
};

// Fragmentation over time: allocator overhead (heap arena + mapped chunks,
// RSS, against live requested bytes) and the arena's external fragmentation.
struct FragmentationSample {
  uint64_t time_ns = 0;
  double heap_overhead = 0;  // (arena + mmapped) / live requested; 0 when unknown
  double rss_overhead = 0;   // RSS / live requested; 0 when unknown
};

struct ExternalFragmentationSample {
  uint64_t time_ns = 0;
  double ratio = 0;  // 1 - largest hole / free bytes in holes
  uint64_t free_bytes = 0;
};

struct ProcessReport {
  int64_t pid = 0;
  int64_t parent_pid = 0;
  std::string trace_path;
  std::string command_line;
  std::string end_reason;
  bool ended_cleanly = false;
  bool leak_scan_done = false;  // false: live blocks are "not freed", unclassified
  double duration_seconds = 0;
  uint64_t allocations = 0, frees = 0;
  uint64_t peak_bytes = 0, peak_time_ns = 0;
  uint64_t start_time_ns = 0;
  std::vector<uint64_t> step_times_ns;  // start of each training step
  std::vector<LeakGroup> leaks;         // sorted by bytes, largest first
  std::vector<ErrorGroup> errors;
  std::vector<GrowthGroup> growth;
  std::vector<TimelinePoint> timeline;  // at most a few thousand points
  uint64_t suppressed_blocks = 0, suppressed_bytes = 0;
  // Binaries that could not be read for symbols ("path: why"): their frames
  // are module+offset.
  std::vector<std::string> missing_modules;

  // The analyses the HTML report adds (filled when ReportOptions::analyses).
  std::vector<LayerRow> layers;
  StepGantt gantt;
  PeakBreakdown peak_breakdown;
  std::vector<TemporaryRow> temporaries;
  std::vector<FragmentationSample> overhead;
  std::vector<ExternalFragmentationSample> fragmentation;
};

struct ReportData {
  std::string title;
  std::string memtide_version;
  std::vector<GateVerdict> gates;
  bool gates_passed = true;
  std::vector<ProcessReport> processes;
};

}  // namespace memtide::analysis
