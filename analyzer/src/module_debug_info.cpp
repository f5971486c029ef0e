#include "module_debug_info.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdlib>

#include "elf_symbol_table.h"
#include "function_scope_index.h"

namespace memtide::analysis {
namespace {

// The linkage name gives the full signature once demangled; DW_AT_name alone
// lacks namespaces, classes and parameters. Integrating follows the concrete
// instance to its abstract origin and a definition to its declaration.
const char* linkage_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
  if (!name) name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  return name;
}

// The DIE at the end of the abstract-origin and specification chain: the
// declaration, which sits inside its namespaces and classes.
Dwarf_Die declaration_of(Dwarf_Die* die) {
  Dwarf_Die current = *die;
  for (int hops = 0; hops < 8; ++hops) {
    Dwarf_Attribute attr;
    Dwarf_Attribute* reference = dwarf_attr(&current, DW_AT_abstract_origin, &attr);
    if (!reference) reference = dwarf_attr(&current, DW_AT_specification, &attr);
    Dwarf_Die next;
    if (!reference || !dwarf_formref_die(reference, &next)) break;
    current = next;
  }
  return current;
}

// The name a namespace or class adds to the names inside it; null for DIEs
// that add none.
const char* scope_name(Dwarf_Die* die) {
  switch (dwarf_tag(die)) {
    case DW_TAG_namespace: {
      const char* name = dwarf_diename(die);
      return name ? name : "(anonymous namespace)";
    }
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
      return dwarf_diename(die);
    default:
      return nullptr;
  }
}

// "ns::Class::name" from the declaration's enclosing DIEs, for functions the
// compiler gave no linkage name (constructors, destructors, members of
// classes in anonymous namespaces). Walks the unit from its root, so the
// caller keeps the result.
std::string qualified_name(Dwarf_Die* declaration) {
  const char* name = dwarf_diename(declaration);
  if (!name) return {};
  Dwarf_Die* scopes = nullptr;
  int count = dwarf_getscopes_die(declaration, &scopes);
  std::string qualified;
  for (int i = count - 1; i >= 1; --i)
    if (const char* scope = scope_name(&scopes[i])) qualified += std::string(scope) + "::";
  free(scopes);
  return qualified + name;
}

// The call site of an inlined subroutine: a file of its unit's line table and a line.
void call_site(Dwarf_Die* inlined, std::string& file, int& line) {
  Dwarf_Attribute attr;
  Dwarf_Word value = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &value) == 0)
    line = static_cast<int>(value);
  Dwarf_Die cu;
  Dwarf_Files* files = nullptr;
  size_t count = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &value) == 0 &&
      dwarf_diecu(inlined, &cu, nullptr, nullptr) && dwarf_getsrcfiles(&cu, &files, &count) == 0 &&
      value < count) {
    const char* name = dwarf_filesrc(files, value, nullptr, nullptr);
    if (name) file = name;
  }
}

}  // namespace

std::string demangle(const char* name) {
  std::string out = name;
  if (name[0] == '_' && name[1] == 'Z') {
    int status = 0;
    char* plain = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status == 0 && plain) out = plain;
    free(plain);
  }
  // A clone the compiler split off or specialised (".cold", ".constprop.0",
  // ".isra.0") is the same source function.
  size_t clone = out.find(" [clone ");
  if (clone == std::string::npos && out.rfind("_Z", 0) != 0) clone = out.find('.');
  if (clone != std::string::npos && clone > 0) out.resize(clone);
  return out;
}

const char* ModuleDebugInfo::symbol_at(uint64_t address) {
  if (!symbols_) symbols_ = std::make_unique<ElfSymbolTable>(module_);
  return symbols_->name_at(address);
}

std::string ModuleDebugInfo::function_name(FunctionScope& scope, uint64_t address) {
  if (const char* linkage = linkage_name(&scope.die)) return demangle(linkage);
  // An out-of-line function's ELF symbol is its linkage name.
  if (!scope.inlined)
    if (const char* symbol = symbol_at(address)) return demangle(symbol);
  Dwarf_Die declaration = declaration_of(&scope.die);
  auto [known, added] = qualified_names_.try_emplace(dwarf_dieoffset(&declaration));
  if (added) known->second = qualified_name(&declaration);
  return known->second;
}

ModuleDebugInfo::ModuleDebugInfo(const std::string& debuginfo_path)
    : debuginfo_path_(debuginfo_path) {
  debuginfo_path_pointer_ = debuginfo_path_.data();
  callbacks_.find_elf = dwfl_build_id_find_elf;
  callbacks_.find_debuginfo = dwfl_standard_find_debuginfo;
  callbacks_.section_address = dwfl_offline_section_address;
  callbacks_.debuginfo_path = &debuginfo_path_pointer_;
  dwfl_ = dwfl_begin(&callbacks_);
}

ModuleDebugInfo::~ModuleDebugInfo() {
  if (dwfl_) dwfl_end(dwfl_);
}

std::unique_ptr<ModuleDebugInfo> ModuleDebugInfo::open(const std::string& file,
                                                       const std::string& debuginfo_path,
                                                       std::string& error) {
  std::unique_ptr<ModuleDebugInfo> info(new ModuleDebugInfo(debuginfo_path));
  if (!info->dwfl_) {
    error = dwfl_errmsg(-1);
    return nullptr;
  }
  dwfl_report_begin(info->dwfl_);
  // Base 0 with the segments' own addresses: lookups take file virtual
  // addresses, so every load of the file (any load bias) shares this Dwfl.
  info->module_ = dwfl_report_elf(info->dwfl_, file.c_str(), file.c_str(), -1, 0, true);
  dwfl_report_end(info->dwfl_, nullptr, nullptr);
  if (!info->module_) {
    error = std::string("cannot read ") + file + ": " + dwfl_errmsg(-1);
    return nullptr;
  }
  return info;
}

std::vector<ReportFrame> ModuleDebugInfo::frames_at(uint64_t address) {
  Dwarf_Addr bias = 0;
  std::vector<ReportFrame> frames;
  if (Dwarf_Die* cu = dwfl_module_addrdie(module_, address, &bias))
    frames = frames_from_dwarf(cu, address, address - bias);
  if (frames.empty()) {
    // No DWARF here: the ELF symbol (.symtab, else .dynsym) still names the function.
    if (const char* symbol = symbol_at(address)) {
      frames.push_back(ReportFrame{});
      frames.back().function = demangle(symbol);
    }
  } else if (frames.back().function.empty()) {
    if (const char* symbol = symbol_at(address)) frames.back().function = demangle(symbol);
  }
  return frames;
}

FunctionScopeIndex& ModuleDebugInfo::scope_index(Dwarf_Die* cu) {
  const Dwarf_Off unit = dwarf_dieoffset(cu);
  IndexEntry& entry = scope_indexes_[unit];
  entry.last_use = ++use_clock_;
  if (entry.index) return *entry.index;
  // Indexes of large C++ units take megabytes; addresses come mostly in
  // order, so the unit used least recently goes, to be rebuilt if needed.
  if (scope_indexes_.size() > kMaxScopeIndexes) {
    auto oldest = scope_indexes_.end();
    for (auto it = scope_indexes_.begin(); it != scope_indexes_.end(); ++it)
      if (it->first != unit &&
          (oldest == scope_indexes_.end() || it->second.last_use < oldest->second.last_use))
        oldest = it;
    scope_indexes_.erase(oldest);
  }
  IndexEntry& fresh = scope_indexes_[unit];
  fresh.index = std::make_unique<FunctionScopeIndex>(cu);
  return *fresh.index;
}

std::vector<ReportFrame> ModuleDebugInfo::frames_from_dwarf(Dwarf_Die* cu, uint64_t address,
                                                            uint64_t dwarf_address) {
  FunctionScopeIndex& index = scope_index(cu);
  std::string file;
  int line = 0;
  if (Dwarf_Line* entry = dwarf_getsrc_die(cu, dwarf_address)) {
    if (const char* name = dwarf_linesrc(entry, nullptr, nullptr)) file = name;
    dwarf_lineno(entry, &line);
  }
  std::vector<ReportFrame> frames;
  for (FunctionScope* scope : index.chain_at(dwarf_address)) {
    if (!scope->described) {
      scope->described = true;
      scope->name = function_name(*scope, address);
      if (scope->inlined) call_site(&scope->die, scope->call_file, scope->call_line);
    }
    ReportFrame frame;
    frame.function = scope->name;
    frame.file = file;
    frame.line = line;
    frame.inlined = scope->inlined;
    frames.push_back(std::move(frame));
    // The next frame out is where this one was inlined.
    file = scope->call_file;
    line = scope->call_line;
  }
  // Line info without a function scope (assembly, or scopes left out):
  // one frame that the symbol table names.
  if (frames.empty() && !file.empty()) {
    frames.push_back(ReportFrame{});
    frames.back().file = file;
    frames.back().line = line;
  }
  return frames;
}

}  // namespace memtide::analysis
