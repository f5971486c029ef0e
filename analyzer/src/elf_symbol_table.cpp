#include "elf_symbol_table.h"

#include <gelf.h>

#include <algorithm>

namespace memtide::analysis {
namespace {

int binding_rank(const GElf_Sym& symbol) {
  switch (GELF_ST_BIND(symbol.st_info)) {
    case STB_GLOBAL:
      return 0;
    case STB_WEAK:
      return 1;
    default:
      return 2;
  }
}

}  // namespace

ElfSymbolTable::ElfSymbolTable(Dwfl_Module* module) {
  int count = dwfl_module_getsymtab(module);
  for (int i = 1; i < count; ++i) {
    GElf_Sym symbol;
    GElf_Addr address = 0;
    const char* name =
        dwfl_module_getsym_info(module, i, &symbol, &address, nullptr, nullptr, nullptr);
    if (!name || !name[0] || symbol.st_shndx == SHN_UNDEF) continue;
    int type = GELF_ST_TYPE(symbol.st_info);
    if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
    symbols_.push_back(Symbol{address, symbol.st_size, name, binding_rank(symbol)});
  }
  std::sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
    if (a.address != b.address) return a.address < b.address;
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.size > b.size;
  });
  // Aliases at one address: the best-ranked one, first after sorting, names it.
  symbols_.erase(
      std::unique(symbols_.begin(), symbols_.end(),
                  [](const Symbol& a, const Symbol& b) { return a.address == b.address; }),
      symbols_.end());
}

const char* ElfSymbolTable::name_at(uint64_t address) const {
  auto after = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                                [](uint64_t value, const Symbol& s) { return value < s.address; });
  if (after == symbols_.begin()) return nullptr;
  const Symbol& nearest = *(after - 1);
  // A symbol of known size names only its own bytes; one without a size
  // reaches up to the next symbol.
  if (nearest.size == 0 || address - nearest.address < nearest.size) return nearest.name;
  return nullptr;
}

}  // namespace memtide::analysis
