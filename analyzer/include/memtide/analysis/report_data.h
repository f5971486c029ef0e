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
  std::string name;    // "definite", "max-leaked-bytes", "max-peak", ...
  bool passed = true;
  std::string detail;  // "3 definitely lost blocks (4096 bytes) in 2 groups"
};

// Blocks still live at exit that share a category, an allocation stack and a scope.
struct LeakGroup {
  std::string category;  // "definite", "indirect", "possible", "reachable", "not freed"
  uint64_t bytes = 0;
  uint64_t blocks = 0;
  std::string scope;  // scope path at allocation, empty for none
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
  uint64_t heap_bytes = 0;   // live heap bytes requested
  uint64_t mmap_bytes = 0;   // live mapped bytes
  uint64_t gpu_bytes = 0;    // live GPU memory, all devices
  uint64_t rss_bytes = 0;    // 0 when not sampled
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
};

struct ReportData {
  std::string title;
  std::string memtide_version;
  std::vector<GateVerdict> gates;
  bool gates_passed = true;
  std::vector<ProcessReport> processes;
};

}  // namespace memtide::analysis
