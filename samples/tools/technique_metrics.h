// Measures of a sample run's trace that show each memory technique's effect:
// what init left behind (parameters), activations kept for backward, the
// backward peak, allocator calls per step, pool peaks, mappings. Shared by the
// memory-signature tests and by measure_techniques, which writes the table in
// samples/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "memtide/analysis/trace_file.h"

namespace memtide::samples_metrics {

struct TracedEvent {
  EventRecord record;
  int64_t thread_id;
};

class TechniqueTrace {
 public:
  explicit TechniqueTrace(const std::string& db);

  const std::vector<TracedEvent>& events() const { return events_; }
  const std::string& db() const { return db_; }
  // "a/b/c" path of a scope id, "" for none.
  std::string path(uint32_t scope) const;

  static bool is_heap_allocation(EventKind kind);

  // Heap bytes allocated in `scope_path` still live when the first step starts.
  uint64_t heap_bytes_kept_from(const std::string& scope_path) const;
  // Heap bytes allocated in `scope_path` over the whole run.
  uint64_t heap_bytes_allocated_in(const std::string& scope_path) const;
  // Live bytes of blocks allocated in forward/recompute scopes of `step`,
  // when that step's loss scope is entered (activations kept for backward).
  uint64_t activations_kept_for_backward(uint64_t step) const;
  // Peak of live activation bytes during the backward pass of `step`.
  uint64_t backward_activation_peak(uint64_t step) const;
  // Heap allocation and free calls from the start of step `from` to `to`.
  int allocator_calls_between_steps(uint64_t from, uint64_t to) const;
  // Peak of live bytes of blocks made by `alloc` and ended by `release`.
  uint64_t peak_of(EventKind alloc, EventKind release) const;
  // Largest heap block allocated under a scope whose path starts with `prefix`.
  uint64_t largest_heap_block_under(const std::string& prefix) const;
  // File-backed (not anonymous) mappings of at least `min_bytes`.
  int file_mappings(uint64_t min_bytes) const;

 private:
  std::string db_;
  std::vector<TracedEvent> events_;
  std::map<uint32_t, std::string> paths_;
};

}  // namespace memtide::samples_metrics
