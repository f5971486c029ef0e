// Call trees of a trace's heap blocks (memtide-gui's Call trees page): one
// number per stack, by peak, bytes allocated, count, leaked or temporaries,
// restricted to a time range and a scope, then arranged top-down (callers
// first) and bottom-up (allocating functions first) over symbolized frames,
// inlined calls included.
//
//   analysis::TraceFile trace("run.db");
//   analysis::StackTreeOptions options;
//   options.measure = analysis::StackMeasure::kPeakBytes;
//   options.scope = "model/layer1";
//   analysis::StackTrees trees = analysis::build_stack_trees(trace, options);
//   for (uint32_t root : trees.top_down.roots) ...
//
// The numbers come from the allocation index (allocation_index.h, built
// first when missing): every filter is a WHERE on its rows, so a new time
// range or scope is one query, not another pass over the events. Heap blocks
// only (malloc family and operator new, as the host peak and the folded
// export count them); pool sub-allocations and GPU blocks are not in these
// trees.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

enum class StackMeasure {
  kPeakBytes,       // bytes live at the peak of live heap bytes (of the time range, if any)
  kAllocatedBytes,  // bytes allocated
  kAllocations,     // blocks allocated
  kLeakedBytes,     // bytes never freed (live at the end)
  kTemporaries,     // temporary allocations, as temporaries.h defines them
};

// "peak", "allocated", "count", "leaked", "temporaries".
const char* stack_measure_name(StackMeasure measure);
bool parse_stack_measure(const std::string& word, StackMeasure& out);
// True for the measures counted in bytes (the others count blocks).
bool is_byte_measure(StackMeasure measure);

struct StackTreeOptions {
  StackMeasure measure = StackMeasure::kAllocatedBytes;
  // Blocks allocated in [start_ns, end_ns) of trace time. For kPeakBytes the
  // range picks the moment instead: the highest live heap bytes reached by
  // its events (or held when it began), and every block live then counts,
  // wherever it was allocated.
  bool has_time_range = false;
  uint64_t start_ns = 0, end_ns = 0;
  // Blocks allocated in this scope (a scope_paths path, "model/layer1") or
  // in a scope under it; empty for all.
  std::string scope;
  // kLeakedBytes: only blocks of this exit-scan category ("definite",
  // "indirect", "possible", "reachable", "not-freed"); empty for all.
  std::string leak_category;
  std::vector<std::string> search_paths;  // for binaries, as in reports
  std::string sysroot;
};

// The measure of the blocks of one stack (stack_nodes id; 0 for none).
struct StackWeight {
  uint32_t stack = 0;
  uint64_t weight = 0, blocks = 0;
};

struct StackWeights {
  std::vector<StackWeight> stacks;  // weight > 0, by stack id
  uint64_t total = 0;
  // kPeakBytes: the event after which the peak held (0 when nothing was live).
  uint64_t peak_seq = 0, peak_time_ns = 0;
  bool leak_scan_done = false;  // the exit scan ran: leaks carry categories
};

// Sums the measure per stack. Throws TraceError.
StackWeights weigh_stacks(const TraceFile& trace, const StackTreeOptions& options);

// A call tree as plain data: node i's children are listed in `children`,
// largest inclusive first. A node is one frame reached by one path; frames
// of one function and module (or one address, when unsymbolized) under the
// same parent are merged.
struct CallTreeNode {
  ReportFrame frame;  // line 0 when merged frames were at different lines
  std::string label;  // the function, or "module+0xOFFSET" when unknown
  static constexpr uint32_t kNoParent = UINT32_MAX;
  uint32_t parent = kNoParent;
  uint32_t row = 0;  // position among its parent's children (or the roots)
  uint32_t depth = 0;
  std::vector<uint32_t> children;
  // self: stacks that end at this node (top-down: allocated in this frame
  // itself; bottom-up: this caller is the outermost frame). inclusive: self
  // plus the children's inclusive.
  uint64_t self = 0, inclusive = 0;
  uint64_t blocks = 0;  // inclusive, in blocks
};

struct CallTree {
  std::vector<CallTreeNode> nodes;
  std::vector<uint32_t> roots;  // largest first
  uint64_t total = 0;
};

enum class TreeDirection {
  kTopDown,   // roots are outermost frames (main, thread entry points)
  kBottomUp,  // roots are the frames that allocated; children their callers
};

// Innermost frame first, as StackFrames gives them.
using StackFramesOf = std::function<const std::vector<ReportFrame>&(uint32_t stack)>;

// Arranges the weighed stacks; a stack without frames becomes one
// "[no stack]" frame so the tree's total is the weights' total.
CallTree build_call_tree(const std::vector<StackWeight>& stacks, const StackFramesOf& frames_of,
                         TreeDirection direction);

struct StackTrees {
  StackTreeOptions options;
  StackWeights weights;
  CallTree top_down, bottom_up;
  std::vector<std::string> missing_modules;  // binaries not found: module+offset frames
  std::string symbol_cache_error;  // why the symbol cache could not be saved; empty if it was
};

// weigh_stacks, symbolization of the stacks with a weight, and both trees.
// Throws TraceError (ScanCancelled when the trace's scan control is cancelled).
StackTrees build_stack_trees(const TraceFile& trace, const StackTreeOptions& options);

}  // namespace memtide::analysis
