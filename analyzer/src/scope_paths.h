// Scope paths by id, each looked up once in the trace's `scope_paths` view:
// analyses that name the scope of many blocks ask again and again for the
// same few ids.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "memtide/analysis/trace_file.h"
#include "sqlite_util.h"

namespace memtide::analysis {

class ScopePaths {
 public:
  explicit ScopePaths(const TraceFile& trace)
      : query_(trace.db(), "SELECT path FROM scope_paths WHERE id = ?") {}

  // "" for id 0 (no scope) and for an id the trace does not know.
  const std::string& path(uint32_t id) {
    auto [it, added] = paths_.try_emplace(id);
    if (added && id != 0) {
      query_.reset();
      query_.bind(1, int64_t(id));
      if (query_.step()) it->second = query_.column_text(0);
    }
    return it->second;
  }

 private:
  Statement query_;
  std::map<uint32_t, std::string> paths_;
};

}  // namespace memtide::analysis
