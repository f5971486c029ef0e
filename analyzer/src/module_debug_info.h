// One binary opened with libdwfl, answering "which functions, file and line
// are at this address": the DWARF scopes give the chain of inlined calls, the
// ELF symbol table a name where there is no DWARF. Debug info split off into
// a separate file is found through the build-id and .gnu_debuglink under the
// directories of `debuginfo_path` (libdwfl's format, ':'-separated).
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "memtide/analysis/report_data.h"

namespace memtide::analysis {

class ElfSymbolTable;
class FunctionScopeIndex;
struct FunctionScope;

class ModuleDebugInfo {
 public:
  // Null, with `error` set, when `file` cannot be read as ELF.
  static std::unique_ptr<ModuleDebugInfo> open(const std::string& file,
                                               const std::string& debuginfo_path,
                                               std::string& error);
  ~ModuleDebugInfo();
  ModuleDebugInfo(const ModuleDebugInfo&) = delete;
  ModuleDebugInfo& operator=(const ModuleDebugInfo&) = delete;

  // The frames at `address`, a virtual address of the file, innermost first:
  // function (demangled), file, line and inlined; module fields are left to
  // the caller. Empty when neither DWARF nor a symbol covers the address.
  std::vector<ReportFrame> frames_at(uint64_t address);

 private:
  explicit ModuleDebugInfo(const std::string& debuginfo_path);
  std::vector<ReportFrame> frames_from_dwarf(Dwarf_Die* cu, uint64_t address,
                                             uint64_t dwarf_address);
  FunctionScopeIndex& scope_index(Dwarf_Die* cu);
  std::string function_name(FunctionScope& scope, uint64_t address);
  // The ELF symbol holding `address`, or null; the table is read on first use.
  const char* symbol_at(uint64_t address);

  // libdwfl keeps pointers to the callbacks and the path for the Dwfl's life.
  std::string debuginfo_path_;
  char* debuginfo_path_pointer_ = nullptr;
  Dwfl_Callbacks callbacks_{};
  Dwfl* dwfl_ = nullptr;
  Dwfl_Module* module_ = nullptr;
  // Per compilation unit (by DIE offset), built on its first address; at
  // most kMaxScopeIndexes are kept.
  struct IndexEntry {
    std::unique_ptr<FunctionScopeIndex> index;
    uint64_t last_use = 0;
  };
  static constexpr size_t kMaxScopeIndexes = 256;
  std::unordered_map<Dwarf_Off, IndexEntry> scope_indexes_;
  uint64_t use_clock_ = 0;
  std::unique_ptr<ElfSymbolTable> symbols_;
  // Names built from enclosing scopes, by declaration DIE offset.
  std::unordered_map<Dwarf_Off, std::string> qualified_names_;
};

// A C++ symbol demangled ("ns::f(int)"); other names unchanged.
std::string demangle(const char* name);

}  // namespace memtide::analysis
