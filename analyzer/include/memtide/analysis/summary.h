// The overview `memtide info` prints: what the trace holds and how the run
// ended. Also pairs allocations with frees to count what was never freed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct KindTotals {
  uint64_t events = 0;
  uint64_t bytes = 0;
};

struct ProcessRow {
  int64_t pid = 0;
  int64_t parent_pid = 0;
  std::string origin, command_line, parent_trace, end_reason;
  bool has_exit_status = false;
  int64_t exit_status = 0;
};

struct TraceSummary {
  std::string path;
  int schema_version = 0;
  std::vector<ProcessRow> processes;
  uint64_t threads = 0, modules = 0, stack_nodes = 0, scopes = 0, pools = 0, samples = 0;
  uint64_t pages = 0, events = 0;
  uint64_t first_time_ns = 0, last_time_ns = 0;
  bool ended_cleanly = false;
  std::string end_reason;                     // empty when the process died without a final flush
  std::map<std::string, KindTotals> by_kind;  // event kind name -> totals
  uint64_t steps = 0;
  // Pairing of allocations and frees.
  uint64_t unfreed_blocks = 0, unfreed_bytes = 0;  // heap blocks live at the end
  uint64_t unfreed_mappings = 0, unfreed_mapped_bytes = 0;
  uint64_t frees_of_unknown_pointers = 0;
  uint64_t peak_heap_bytes = 0;
  uint64_t peak_live_blocks = 0;  // the most heap blocks live at one time
  std::map<std::string, int64_t> counters;

  double duration_seconds() const {
    return last_time_ns > first_time_ns ? double(last_time_ns - first_time_ns) / 1e9 : 0.0;
  }
};

TraceSummary summarize(const TraceFile& trace);

// The same without a pass over the events: what the tables say, with the
// event count and the first and last event times from the pages table.
// by_kind, steps, the pairing of allocations and frees, peak_heap_bytes and
// peak_live_blocks
// stay empty (a viewer's quick overview).
TraceSummary describe_trace(const TraceFile& trace);

// Text and JSON renderings for `memtide info`.
std::string format_summary_text(const TraceSummary& summary);
std::string format_summary_json(const TraceSummary& summary);

}  // namespace memtide::analysis
