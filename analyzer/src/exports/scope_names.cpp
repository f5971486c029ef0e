#include "scope_names.h"

#include <algorithm>

#include "sqlite_util.h"

namespace memtide::analysis {

ScopeNames::ScopeNames(const TraceFile& trace) {
  Statement s(trace.db(),
              "SELECT s.id, s.parent, str.value FROM scopes s "
              "LEFT JOIN strings str ON str.id = s.name_id");
  while (s.step())
    scopes_.emplace(uint32_t(s.column_int64(0)),
                    Scope{uint32_t(s.column_int64(1)), s.column_text(2)});
}

const std::string& ScopeNames::name(uint32_t scope) const {
  static const std::string kNone;
  auto it = scopes_.find(scope);
  return it == scopes_.end() ? kNone : it->second.name;
}

std::vector<const std::string*> ScopeNames::components(uint32_t scope) const {
  std::vector<const std::string*> out;
  // Bounded by the table's size: a damaged trace whose parents loop still ends.
  while (scope != 0 && out.size() <= scopes_.size()) {
    auto it = scopes_.find(scope);
    if (it == scopes_.end()) break;
    out.push_back(&it->second.name);
    scope = it->second.parent;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string ScopeNames::path(uint32_t scope) const {
  std::string out;
  for (const std::string* component : components(scope)) {
    if (!out.empty()) out += '/';
    out += *component;
  }
  return out;
}

}  // namespace memtide::analysis
