#include "trace_modules.h"

#include <algorithm>

#include "sqlite_util.h"

namespace memtide::analysis {

TraceModules::TraceModules(sqlite3* db) {
  Statement s(db, "SELECT id, path, build_id, base, size, load_bias FROM modules");
  while (s.step())
    modules_.push_back(TraceModule{s.column_int64(0), s.column_text(1), s.column_text(2),
                                   static_cast<uint64_t>(s.column_int64(3)),
                                   static_cast<uint64_t>(s.column_int64(4)),
                                   static_cast<uint64_t>(s.column_int64(5))});
  std::sort(modules_.begin(), modules_.end(), [](const TraceModule& a, const TraceModule& b) {
    return a.base != b.base ? a.base < b.base : a.id < b.id;
  });
  uint64_t reach = 0;
  for (const TraceModule& m : modules_) {
    reach = std::max(reach, m.base + m.size);
    reach_.push_back(reach);
  }
}

long TraceModules::find(uint64_t address) const {
  auto after =
      std::upper_bound(modules_.begin(), modules_.end(), address,
                       [](uint64_t value, const TraceModule& m) { return value < m.base; });
  // Walk down from the nearest module below while some module at or below
  // still reaches the address: live mappings never overlap, so this is one
  // step unless modules were unloaded and others mapped over them.
  long best = -1;
  for (long i = long(after - modules_.begin()) - 1; i >= 0 && reach_[i] > address; --i) {
    const TraceModule& m = modules_[i];
    if (address - m.base < m.size && (best < 0 || m.id > modules_[best].id)) best = i;
  }
  return best;
}

}  // namespace memtide::analysis
