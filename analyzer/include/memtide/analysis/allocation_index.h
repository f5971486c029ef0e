// `memtide index`: the event pages decoded into one row per block, so that
// reports, the GUI and plain SQL can ask "what was live when, allocated
// where" without replaying the stream. Stored in the trace itself (tables
// `allocations` and `unmatched_frees`, see docs/trace-format.md) and rebuilt
// only when the trace changed since.
#pragma once

#include <cstdint>

#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct IndexStats {
  bool rebuilt = false;      // false when the stored index was current
  uint64_t events = 0;       // events read (0 when not rebuilt)
  uint64_t allocations = 0;  // rows in `allocations`
  uint64_t live_at_end = 0;  // of which never freed
  uint64_t unmatched_frees = 0;
  // The high-water mark of live heap bytes (requested sizes) and when.
  int64_t peak_heap_bytes = 0;
  uint64_t peak_time_ns = 0, peak_seq = 0;
  double seconds = 0;
};

// Builds the index unless the trace already holds one for its current
// pages. Memory stays bounded by the blocks live at any one time.
IndexStats ensure_index(const TraceFile& trace);

// Kinds of the `allocations.family` column: which API family made a block,
// and so which frees match it.
enum class AllocFamily : int {
  kMalloc = 1,    // malloc family, freed by free / realloc
  kNew = 2,       // operator new, freed by delete
  kNewArray = 3,  // operator new[], freed by delete[]
  // 4 is not used: mappings are not indexed.
  kPool = 5,  // a pool sub-allocation (annotate API)
  kGpu = 6,   // CUDA memory; `device` says which GPU
};

}  // namespace memtide::analysis
