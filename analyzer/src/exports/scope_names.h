// The scopes of a trace as a tree in memory (scopes joined with strings):
// each scope's own name and the chain of names from the top level down.
// Names are kept as the program gave them; a name may itself hold `/`, so
// exports take the components from here rather than splitting scope_paths.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

class ScopeNames {
 public:
  // Reads the scopes table; throws TraceError.
  explicit ScopeNames(const TraceFile& trace);

  // The scope's own name; "" for scope 0 or an id the trace lacks.
  const std::string& name(uint32_t scope) const;
  // The names from the top-level scope down to `scope`; empty for scope 0.
  std::vector<const std::string*> components(uint32_t scope) const;
  // The components joined by `/`, as the scope_paths view writes them.
  std::string path(uint32_t scope) const;

 private:
  struct Scope {
    uint32_t parent;
    std::string name;
  };
  std::unordered_map<uint32_t, Scope> scopes_;
};

}  // namespace memtide::analysis
