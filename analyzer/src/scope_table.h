// The trace's scope tree in memory: each scope's parent, depth, path, and
// its layer and phase (scope_lifetimes.h defines them), indexed by scope id
// so that aggregators walk a scope's ancestors without SQL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct ScopeInfo {
  uint32_t parent = 0;
  int depth = 0;  // 1 at top level; 0 for "no scope" and ids the trace lacks
  std::string name, path, layer, phase;
  int phase_index = -1;  // into ScopeTable::phases()
};

class ScopeTable {
 public:
  explicit ScopeTable(const TraceFile& trace);

  // Ids run from 1 to size() - 1; id 0 is "no scope".
  size_t size() const { return scopes_.size(); }
  const ScopeInfo& operator[](uint32_t id) const {
    return id < scopes_.size() ? scopes_[id] : scopes_[0];
  }
  // Distinct phases of the trace's scopes, in order of first scope id.
  const std::vector<std::string>& phases() const { return phases_; }

 private:
  std::vector<ScopeInfo> scopes_;
  std::vector<std::string> phases_;
};

}  // namespace memtide::analysis
