#include "module_debug_info.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdlib>

namespace memtide::analysis {
namespace {

bool is_function_scope(Dwarf_Die* die) {
  int tag = dwarf_tag(die);
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine || tag == DW_TAG_entry_point;
}

// The linkage name gives the full signature once demangled; DW_AT_name alone
// lacks namespaces, classes and parameters. Integrating follows the concrete
// instance to its abstract origin and a definition to its declaration.
std::string function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
  if (!name) name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  if (!name) name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
  return name ? demangle(name) : std::string();
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
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char* plain = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && plain ? plain : name;
  free(plain);
  return out;
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
    frames = frames_from_dwarf(cu, address - bias);
  if (frames.empty()) {
    // No DWARF here: the ELF symbol (.symtab, else .dynsym) still names the function.
    if (const char* symbol = dwfl_module_addrname(module_, address)) {
      frames.push_back(ReportFrame{});
      frames.back().function = demangle(symbol);
    }
  } else if (frames.back().function.empty()) {
    if (const char* symbol = dwfl_module_addrname(module_, address))
      frames.back().function = demangle(symbol);
  }
  return frames;
}

std::vector<ReportFrame> ModuleDebugInfo::frames_from_dwarf(Dwarf_Die* cu, uint64_t dwarf_address) {
  std::vector<ReportFrame> frames;
  // The innermost scope first, then its physical parents: dwarf_getscopes
  // itself continues into an inlined function's abstract origin, not into
  // the function it was inlined into.
  Dwarf_Die* scopes = nullptr;
  int count = dwarf_getscopes(cu, dwarf_address, &scopes);
  if (count > 0) {
    Dwarf_Die innermost = scopes[0];
    free(scopes);
    scopes = nullptr;
    count = dwarf_getscopes_die(&innermost, &scopes);
  }
  std::string file;
  int line = 0;
  if (Dwarf_Line* entry = dwarf_getsrc_die(cu, dwarf_address)) {
    if (const char* name = dwarf_linesrc(entry, nullptr, nullptr)) file = name;
    dwarf_lineno(entry, &line);
  }
  for (int i = 0; i < count; ++i) {
    Dwarf_Die* die = &scopes[i];
    if (!is_function_scope(die)) continue;
    ReportFrame frame;
    frame.function = function_name(die);
    frame.file = file;
    frame.line = line;
    frame.inlined = dwarf_tag(die) == DW_TAG_inlined_subroutine;
    frames.push_back(std::move(frame));
    if (!frames.back().inlined) break;
    // The next frame out is where this one was inlined.
    file.clear();
    line = 0;
    call_site(die, file, line);
  }
  free(scopes);
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
