// Turns the raw return addresses of a trace into functions, source files and
// lines, inlined calls included, with elfutils' libdw. Owns the symbol cache
// tables of the trace (docs/trace-format.md, "symbols"): a trace symbolized
// once is read back from the cache, on a machine without the binaries too.
//
//   analysis::TraceFile trace("run.db");
//   analysis::Symbolizer symbols(trace, {.search_paths = {"/opt/debug"}});
//   for (const ReportFrame& frame : symbols.stack(stack_id)) ...
//   symbols.save_cache();
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct SymbolizerOptions {
  // Directories tried for a module's binary, after its recorded path: by file
  // name, and by build-id (DIR/.build-id/xx/yyyy.debug, DIR/.build-id/xx/yyyy).
  std::vector<std::string> search_paths;
  // Put before every recorded module path, and before /usr/lib/debug, to
  // symbolize with a copy of the traced machine's file system.
  std::string sysroot;
};

// A module whose ips could not be resolved, and why.
struct MissingModule {
  std::string path;    // as recorded in the trace
  std::string reason;  // "not found", "build-id differs (found ... in FILE)", ...
};

// What symbolize_all() did.
struct SymbolizeSummary {
  uint64_t ips = 0;            // distinct instruction pointers in the trace
  uint64_t from_cache = 0;     // of which read from the symbol cache
  uint64_t with_function = 0;  // of which have a function name
  uint64_t with_line = 0;      // of which have a source line
};

class ModuleDebugInfo;
class TraceModules;

class Symbolizer {
 public:
  // Reads the trace's modules and its symbol cache; throws TraceError.
  explicit Symbolizer(const TraceFile& trace, SymbolizerOptions options = {});
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // The frames of one return address, innermost (inlined) first; never empty.
  // An ip that cannot be resolved gives one frame with only the module and
  // offset, or module "?" and the absolute address when no module covers it.
  // module_offset is the address looked up: the return address minus 1 (the
  // call instruction), relative to the module's load bias, so it is what
  // `addr2line -e MODULE` takes. The reference stays valid for the
  // Symbolizer's lifetime.
  const std::vector<ReportFrame>& frames(uint64_t ip);

  // All frames of a stack (an event's stack id), innermost first, inlined
  // frames included; empty for stack 0 or an id the trace does not hold.
  std::vector<ReportFrame> stack(uint32_t stack_id);

  // Resolves every distinct ip of the trace's stacks.
  SymbolizeSummary symbolize_all();

  // Recorded paths of the modules whose binary could not be opened or whose
  // build-id differs from the trace's (their ips fall back to module+offset).
  std::vector<std::string> missing_modules() const;
  const std::vector<MissingModule>& missing_module_details() const { return missing_; }

  // Writes every ip resolved since the cache was read into the trace's symbol
  // cache. Ips of missing modules are left out, so that a later run that
  // finds the binary resolves them. Throws TraceError (a read-only trace).
  void save_cache();

 private:
  // `cacheable` is cleared when the ip's module is missing: a later run may
  // find its binary.
  std::vector<ReportFrame> resolve(uint64_t ip, bool& cacheable);
  ModuleDebugInfo* debug_info_for(size_t module_index);
  void load_stack_nodes();

  const TraceFile& trace_;
  SymbolizerOptions options_;
  std::string debuginfo_path_;  // libdwfl's search list for separate debug files
  std::unique_ptr<TraceModules> modules_;
  // Per module row: its binary, null while not looked for or missing.
  std::vector<ModuleDebugInfo*> module_binaries_;
  std::vector<bool> module_looked_up_;
  // Binaries by recorded path and build-id, null for a missing one: rows of
  // one module (loaded, unloaded, loaded again) share one opened file.
  std::unordered_map<std::string, std::unique_ptr<ModuleDebugInfo>> binaries_;
  std::vector<MissingModule> missing_;
  std::unordered_map<uint64_t, std::vector<ReportFrame>> frames_by_ip_;
  std::vector<uint64_t> resolved_since_cache_;  // ips to write on save_cache
  std::unordered_set<uint64_t> cached_ips_;     // read from the trace's cache
  struct StackNode {
    uint32_t parent;
    uint64_t ip;
  };
  std::vector<StackNode> stack_nodes_;  // by node id; ip 0 marks an absent id
  bool stack_nodes_loaded_ = false;
};

}  // namespace memtide::analysis
