#include "function_scope_index.h"

#include <dwarf.h>

#include <algorithm>

namespace memtide::analysis {
namespace {

std::vector<std::pair<Dwarf_Addr, Dwarf_Addr>> code_ranges(Dwarf_Die* die) {
  std::vector<std::pair<Dwarf_Addr, Dwarf_Addr>> ranges;
  Dwarf_Addr base = 0, low = 0, high = 0;
  for (ptrdiff_t offset = 0; (offset = dwarf_ranges(die, offset, &base, &low, &high)) > 0;)
    if (low < high) ranges.emplace_back(low, high);
  return ranges;
}

bool holds(const FunctionScope& scope, Dwarf_Addr address) {
  for (const auto& [low, high] : scope.ranges)
    if (address >= low && address < high) return true;
  return false;
}

}  // namespace

FunctionScopeIndex::FunctionScopeIndex(Dwarf_Die* cu) {
  collect(cu, -1);
  std::sort(functions_.begin(), functions_.end(),
            [](const FunctionRange& a, const FunctionRange& b) { return a.low < b.low; });
  Dwarf_Addr reach = 0;
  for (const FunctionRange& range : functions_) {
    reach = std::max(reach, range.high);
    reach_.push_back(reach);
  }
}

// Every DIE is visited: concrete functions sit inside namespaces, and
// inlined calls inside lexical blocks, at any depth.
void FunctionScopeIndex::collect(Dwarf_Die* parent, int enclosing) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    int inner = enclosing;
    if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine || tag == DW_TAG_entry_point) {
      auto ranges = code_ranges(&child);
      if (!ranges.empty()) {
        FunctionScope scope;
        scope.die = child;
        scope.inlined = tag == DW_TAG_inlined_subroutine && enclosing >= 0;
        scope.parent = scope.inlined ? enclosing : -1;
        scope.ranges = std::move(ranges);
        inner = static_cast<int>(scopes_.size());
        if (scope.inlined)
          scopes_[enclosing].children.push_back(inner);
        else
          for (const auto& [low, high] : scope.ranges) functions_.push_back({low, high, inner});
        scopes_.push_back(std::move(scope));
      }
    }
    if (dwarf_haschildren(&child)) collect(&child, inner);
  } while (dwarf_siblingof(&child, &child) == 0);
}

std::vector<FunctionScope*> FunctionScopeIndex::chain_at(Dwarf_Addr address) {
  auto after = std::upper_bound(
      functions_.begin(), functions_.end(), address,
      [](Dwarf_Addr value, const FunctionRange& range) { return value < range.low; });
  int scope = -1;
  for (long i = long(after - functions_.begin()) - 1; i >= 0 && reach_[i] > address; --i)
    if (address < functions_[i].high) {
      scope = functions_[i].scope;
      break;
    }
  if (scope < 0) return {};
  // Descend into the inlined call holding the address, level by level.
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (int child : scopes_[scope].children)
      if (holds(scopes_[child], address)) {
        scope = child;
        deeper = true;
        break;
      }
  }
  std::vector<FunctionScope*> chain;
  for (; scope >= 0; scope = scopes_[scope].parent) chain.push_back(&scopes_[scope]);
  return chain;
}

}  // namespace memtide::analysis
