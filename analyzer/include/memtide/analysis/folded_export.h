// Folded stacks of a trace's heap blocks, the input format of flame-graph
// tools (flamegraph.pl, speedscope, inferno): one line per distinct stack,
//
//   main;train_step(int);Linear::forward();operator new(unsigned long) 40960
//
// frames outermost first, separated by `;`, then a space and the weight.
// Frames are symbolized (inlined calls included, marked `_[i]` as
// flamegraph.pl colours them); a frame whose binary is missing reads
// `libfoo.so+0x1a2b`. A `;` inside a name becomes `:` and control characters
// (newlines included) become spaces, so every line parses.
//
//   analysis::TraceFile trace("run.db");
//   analysis::FoldedOptions options;
//   options.weight = analysis::FoldedWeight::kPeakBytes;
//   std::ofstream out("run.folded");
//   analysis::write_folded_stacks(trace, options, out);
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

// What a stack's number counts, over the heap blocks it allocated (malloc
// family and operator new; a realloc counts the block it returns, with its
// new size).
enum class FoldedWeight {
  kBytes,        // bytes allocated over the whole run
  kCount,        // blocks allocated
  kPeakBytes,    // bytes live at the heap's high-water mark (a second pass)
  kLeakedBytes,  // bytes live at the end (never freed)
};

// "bytes", "count", "peak", "leaked"; false for another word.
bool parse_folded_weight(const std::string& word, FoldedWeight& out);

struct FoldedOptions {
  FoldedWeight weight = FoldedWeight::kBytes;
  // Put the allocation's scope path (e.g. model;layer1;forward) above its
  // outermost frame, so the flame graph groups by scope first.
  bool with_scopes = false;
  std::vector<std::string> search_paths;  // for binaries, as in reports
  std::string sysroot;
};

struct FoldedStats {
  uint64_t events = 0;        // events read (both passes for kPeakBytes)
  uint64_t lines = 0;         // distinct stacks written
  uint64_t total_weight = 0;  // the sum of the lines' weights
  int64_t peak_heap_bytes = 0;
  std::vector<std::string> missing_modules;  // binaries not found: module+offset frames
  std::string symbol_cache_error;  // why the symbol cache could not be saved; empty if it was
};

// Streams the trace's events once (twice for kPeakBytes) and writes the
// lines, sorted. Memory follows the live blocks and the distinct stacks, not
// the trace's length. Throws TraceError.
FoldedStats write_folded_stacks(const TraceFile& trace, const FoldedOptions& options,
                                std::ostream& out);

}  // namespace memtide::analysis
