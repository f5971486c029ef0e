// The functions of one DWARF compilation unit by address: every out-of-line
// function with its code ranges, and inside it the tree of calls inlined into
// it. Built by one walk over the unit's DIEs, so that each address costs a
// binary search and a short descent; libdw's dwarf_getscopes walks the whole
// unit again for every address, hundreds of times slower on C++ units.
#pragma once

#include <elfutils/libdw.h>

#include <string>
#include <utility>
#include <vector>

namespace memtide::analysis {

struct FunctionScope {
  Dwarf_Die die;
  bool inlined = false;  // a DW_TAG_inlined_subroutine
  int parent = -1;       // the scope this call was inlined into; -1 for a function
  std::vector<std::pair<Dwarf_Addr, Dwarf_Addr>> ranges;  // [low, high)
  std::vector<int> children;                              // calls inlined directly into it
  // Filled on first use: the demangled name, and for an inlined call where
  // it was called from (in the parent).
  bool described = false;
  std::string name;
  std::string call_file;
  int call_line = 0;
};

class FunctionScopeIndex {
 public:
  explicit FunctionScopeIndex(Dwarf_Die* cu);

  // The scopes holding `address`, innermost inlined call first, the
  // out-of-line function last; empty when no function of the unit holds it.
  std::vector<FunctionScope*> chain_at(Dwarf_Addr address);

 private:
  void collect(Dwarf_Die* parent, int enclosing);

  std::vector<FunctionScope> scopes_;
  struct FunctionRange {
    Dwarf_Addr low, high;
    int scope;
  };
  std::vector<FunctionRange> functions_;  // sorted by low
  std::vector<Dwarf_Addr> reach_;         // highest `high` of functions_[0..i]
};

}  // namespace memtide::analysis
