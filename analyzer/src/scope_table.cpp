#include "scope_table.h"

#include <algorithm>

#include "memtide/analysis/scope_lifetimes.h"
#include "sqlite_util.h"

namespace memtide::analysis {

ScopeTable::ScopeTable(const TraceFile& trace) {
  scopes_.resize(1);
  Statement s(trace.db(),
              "SELECT s.id, s.parent, s.depth, str.value, p.path FROM scopes s "
              "JOIN strings str ON str.id = s.name_id JOIN scope_paths p ON p.id = s.id "
              "ORDER BY s.id");
  while (s.step()) {
    const int64_t id = s.column_int64(0);
    if (id <= 0 || id > int64_t(UINT32_MAX)) continue;
    if (size_t(id) >= scopes_.size()) scopes_.resize(size_t(id) + 1);
    ScopeInfo& info = scopes_[size_t(id)];
    info.parent = uint32_t(s.column_int64(1));
    info.depth = int(s.column_int64(2));
    info.name = s.column_text(3);
    info.path = s.column_text(4);
    info.phase = phase_of_path(info.path);
    info.layer = layer_of_path(info.path);
    auto known = std::find(phases_.begin(), phases_.end(), info.phase);
    info.phase_index = int(known - phases_.begin());
    if (known == phases_.end()) phases_.push_back(info.phase);
  }
}

}  // namespace memtide::analysis
