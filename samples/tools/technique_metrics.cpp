#include "technique_metrics.h"

#include <sqlite3.h>
#include <sys/mman.h>

#include <regex>

namespace memtide::samples_metrics {
namespace {

bool is_activation_scope(const std::string& path) {
  static const std::regex activation("model\\.layers\\.[0-9]+/(forward|recompute)");
  return std::regex_match(path, activation);
}

}  // namespace

TechniqueTrace::TechniqueTrace(const std::string& db) : db_(db) {
  analysis::TraceFile trace(db);
  trace.for_each_event([&](const EventRecord& e, int64_t thread) {
    events_.push_back(TracedEvent{e, thread});
  });
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(trace.db(), "SELECT id, path FROM scope_paths", -1, &s, nullptr);
  while (s && sqlite3_step(s) == SQLITE_ROW)
    paths_[uint32_t(sqlite3_column_int64(s, 0))] =
        reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
  sqlite3_finalize(s);
}

std::string TechniqueTrace::path(uint32_t scope) const {
  auto it = paths_.find(scope);
  return it == paths_.end() ? "" : it->second;
}

bool TechniqueTrace::is_heap_allocation(EventKind kind) {
  return is_allocation(kind) && kind != EventKind::kMmap && kind != EventKind::kMremap &&
         kind != EventKind::kPoolAlloc;
}

uint64_t TechniqueTrace::heap_bytes_kept_from(const std::string& scope_path) const {
  std::map<uint64_t, uint64_t> live;
  for (const TracedEvent& e : events_) {
    if (e.record.kind == EventKind::kStep) break;
    if (is_heap_allocation(e.record.kind) && path(e.record.scope) == scope_path)
      live[e.record.address] = e.record.size;
    else if (is_deallocation(e.record.kind))
      live.erase(e.record.address);
  }
  uint64_t total = 0;
  for (const auto& [address, size] : live) total += size;
  return total;
}

uint64_t TechniqueTrace::heap_bytes_allocated_in(const std::string& scope_path) const {
  uint64_t total = 0;
  for (const TracedEvent& e : events_)
    if (is_heap_allocation(e.record.kind) && path(e.record.scope) == scope_path)
      total += e.record.size;
  return total;
}

uint64_t TechniqueTrace::activations_kept_for_backward(uint64_t step) const {
  std::map<uint64_t, uint64_t> live;
  int64_t current = -1;
  for (const TracedEvent& e : events_) {
    const EventRecord& r = e.record;
    if (r.kind == EventKind::kStep) current = int64_t(r.aux);
    if (current != int64_t(step)) continue;
    if (r.kind == EventKind::kScopeEnter && path(uint32_t(r.aux)) == "loss") {
      uint64_t total = 0;
      for (const auto& [address, size] : live) total += size;
      return total;
    }
    if (is_heap_allocation(r.kind) && is_activation_scope(path(r.scope)))
      live[r.address] = r.size;
    else if (is_deallocation(r.kind))
      live.erase(r.address);
  }
  return 0;
}

uint64_t TechniqueTrace::backward_activation_peak(uint64_t step) const {
  static const std::regex backward_scope("model\\.layers\\.[0-9]+/backward");
  std::map<uint64_t, uint64_t> live;
  uint64_t live_bytes = 0, peak = 0;
  int64_t current = -1;
  bool backward = false;
  for (const TracedEvent& e : events_) {
    const EventRecord& r = e.record;
    if (r.kind == EventKind::kStep) current = int64_t(r.aux);
    if (r.kind == EventKind::kScopeEnter && current == int64_t(step)) {
      const std::string p = path(uint32_t(r.aux));
      if (std::regex_match(p, backward_scope)) backward = true;
      if (p == "optimizer/step") break;
    }
    if (is_heap_allocation(r.kind) && is_activation_scope(path(r.scope))) {
      live[r.address] = r.size;
      live_bytes += r.size;
    } else if (is_deallocation(r.kind)) {
      auto it = live.find(r.address);
      if (it != live.end()) {
        live_bytes -= it->second;
        live.erase(it);
      }
    }
    if (backward) peak = std::max(peak, live_bytes);
  }
  return peak;
}

int TechniqueTrace::allocator_calls_between_steps(uint64_t from, uint64_t to) const {
  int calls = 0;
  int64_t step = -1;
  for (const TracedEvent& e : events_) {
    if (e.record.kind == EventKind::kStep) step = int64_t(e.record.aux);
    if (step < int64_t(from) || step >= int64_t(to)) continue;
    if (is_heap_allocation(e.record.kind) ||
        (is_deallocation(e.record.kind) && e.record.kind != EventKind::kMunmap &&
         e.record.kind != EventKind::kMremapUnmap && e.record.kind != EventKind::kPoolFree))
      ++calls;
  }
  return calls;
}

uint64_t TechniqueTrace::peak_of(EventKind alloc, EventKind release) const {
  std::map<uint64_t, uint64_t> live;
  uint64_t bytes = 0, peak = 0;
  for (const TracedEvent& e : events_) {
    if (e.record.kind == alloc) {
      live[e.record.address] = e.record.size;
      bytes += e.record.size;
    } else if (e.record.kind == release) {
      auto it = live.find(e.record.address);
      if (it != live.end()) {
        bytes -= it->second;
        live.erase(it);
      }
    }
    peak = std::max(peak, bytes);
  }
  return peak;
}

uint64_t TechniqueTrace::largest_heap_block_under(const std::string& prefix) const {
  uint64_t largest = 0;
  for (const TracedEvent& e : events_)
    if (is_heap_allocation(e.record.kind) && path(e.record.scope).starts_with(prefix))
      largest = std::max(largest, e.record.size);
  return largest;
}

int TechniqueTrace::file_mappings(uint64_t min_bytes) const {
  int count = 0;
  for (const TracedEvent& e : events_) {
    const uint64_t flags = e.record.aux >> 32;
    if (e.record.kind == EventKind::kMmap && !(flags & MAP_ANONYMOUS) && e.record.size >= min_bytes)
      ++count;
  }
  return count;
}

}  // namespace memtide::samples_metrics
