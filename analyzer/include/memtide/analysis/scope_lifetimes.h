// Lifetimes by scope (`memtide layers`): for every scope of the trace, and
// for its subtree, what its blocks cost and how long they lived — bytes, the
// peak of its concurrently live blocks, lifetimes, the bytes that outlived
// the scope instance that made them (and where they were freed), and the
// bytes still live when the training step ended. One streaming pass over the
// events (two when the trace has pools), memory bounded by the live blocks.
//
//   analysis::TraceFile trace("run.db");
//   analysis::ScopeLifetimes layers = analysis::scope_lifetimes(trace, {});
//   for (const analysis::ScopeRow& row : layers.scopes)
//     printf("%s %llu\n", row.path.c_str(), (unsigned long long)row.subtree.peak_live_bytes);
//
// Definitions (also in docs/reports.md, "Layers, peak and temporaries"):
// - A block is a heap block, a pool sub-allocation, or a GPU block that is
//   memory (not a VMM mapping or an address reservation). A pool's backing
//   blocks — heap or GPU blocks of at least kMinPoolBackingBytes that hold
//   one of its sub-allocations — are the pool's reserve, counted under
//   `pools` and not in the scope that allocated them, so no byte counts twice.
// - Layer and phase: a scope's path is split at '/'; its phase is the
//   innermost component that is a phase word (forward, backward, recompute,
//   loss, optimizer, data, eval, init), else the last component. Its layer
//   is what comes before that component ("model.layers.3/forward/ln_1":
//   layer "model.layers.3", phase "forward").
// - Outliving: a block outlives a scope instance when it is freed (or still
//   live at the end of the trace) after that instance of the scope (the
//   enter/exit pair on the allocating thread it was allocated in) exited.
//   In a subtree row, a block counts when it outlives the instance of the
//   row's scope, not merely of an inner one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

// Heap or GPU blocks smaller than this are never taken for a pool's backing.
inline constexpr uint64_t kMinPoolBackingBytes = 4096;

// Where blocks that outlived their scope were freed.
struct FreedIn {
  std::string scope;  // path of the freeing thread's scope; "(no scope)", "(not freed)"
  uint64_t bytes = 0, blocks = 0;
};

struct ScopeMeasures {
  uint64_t allocations = 0, bytes = 0;  // blocks allocated, and their bytes
  uint64_t pool_bytes = 0;              // of which pool sub-allocations
  uint64_t peak_live_bytes = 0;         // most bytes of these blocks live at once
  // The process's live bytes (all blocks, as counted here) at their highest
  // when one of these blocks was allocated.
  uint64_t high_water_bytes = 0;
  // Of blocks freed during the trace; approximate (within 4%, log buckets).
  uint64_t median_lifetime_ns = 0, p95_lifetime_ns = 0;
  uint64_t outliving_bytes = 0, outliving_blocks = 0;
  std::vector<FreedIn> outliving_freed_in;  // largest first, the top few
  // Bytes allocated during a step (or before the first) and not freed before
  // the next step began (or the trace ended).
  uint64_t live_at_step_end_bytes = 0;
};

struct ScopeRow {
  uint32_t id = 0, parent = 0;
  int depth = 0;  // 1 at top level
  std::string name, path, layer, phase;
  ScopeMeasures own;      // blocks allocated in this scope itself
  ScopeMeasures subtree;  // in this scope or any scope under it
};

// Scopes of one phase together (own numbers of each scope summed; the peak
// and high-water mark over all of them at once).
struct PhaseRow {
  std::string phase;
  ScopeMeasures measures;
};

struct PoolUsage {
  int64_t id = 0;
  std::string name;
  uint64_t sub_allocations = 0, sub_bytes = 0, sub_peak_live_bytes = 0;
  uint64_t backing_blocks = 0, reserve_peak_bytes = 0;
};

struct ScopeLifetimesOptions {
  std::optional<int64_t> step;  // only blocks allocated during this step
  // Only blocks allocated at from_ns <= time < to_ns (absolute trace time,
  // e.g. a range selected on a timeline). Their lifetimes, peaks and
  // outliving still follow them past the window, as with `step`.
  std::optional<uint64_t> from_ns, to_ns;
  // Only blocks in this memory: kHostMemory for the host (heap, and pools
  // backed by heap blocks), N for GPU device N (its blocks, and pools whose
  // reserve is on it). Unset: every memory together.
  std::optional<int64_t> device;
  size_t freed_in_top = 3;  // FreedIn entries kept per row
};

// ScopeLifetimesOptions::device for host memory.
inline constexpr int64_t kHostMemory = -1;

// "host" or "cuda:N"; parse_memory_name is its inverse (nullopt for
// anything else).
std::string memory_name(int64_t device);
std::optional<int64_t> parse_memory_name(const std::string& name);

struct ScopeLifetimes {
  std::string trace;
  std::optional<int64_t> step;
  std::optional<uint64_t> from_ns, to_ns;
  std::optional<int64_t> device;  // as asked (ScopeLifetimesOptions::device)
  std::vector<ScopeRow> scopes;   // depth first, each parent before its children
  ScopeMeasures unscoped;         // blocks allocated outside every scope
  std::vector<PhaseRow> phases;
  std::vector<PoolUsage> pools;
  uint64_t events = 0;
};

// Throws TraceError.
ScopeLifetimes scope_lifetimes(const TraceFile& trace, const ScopeLifetimesOptions& options);

std::string phase_of_path(const std::string& path);
std::string layer_of_path(const std::string& path);

// The same scope paths in two runs (subtree numbers), for `memtide diff`.
struct ScopeChange {
  std::string path;
  bool in_base = false, in_new = false;
  uint64_t base_bytes = 0, new_bytes = 0;
  uint64_t base_peak = 0, new_peak = 0;
  uint64_t base_outliving = 0, new_outliving = 0;
  int64_t bytes_delta() const { return int64_t(new_bytes) - int64_t(base_bytes); }
  int64_t peak_delta() const { return int64_t(new_peak) - int64_t(base_peak); }
  int64_t outliving_delta() const { return int64_t(new_outliving) - int64_t(base_outliving); }
  bool changed() const {
    return in_base != in_new || bytes_delta() || peak_delta() || outliving_delta();
  }
};

// Every path of either run, in path order.
std::vector<ScopeChange> compare_scopes(const ScopeLifetimes& base,
                                        const ScopeLifetimes& candidate);

}  // namespace memtide::analysis
