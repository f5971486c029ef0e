#include "memtide/analysis/symbolizer.h"

#include <algorithm>
#include <filesystem>

#include "binary_locator.h"
#include "module_debug_info.h"
#include "sqlite_util.h"
#include "symbol_cache.h"
#include "trace_modules.h"

namespace memtide::analysis {
namespace {

// Where libdwfl looks for debug info split off a binary: beside it, in its
// .debug folder, in the (sysroot's) /usr/lib/debug, and in each search
// directory, by build-id and by .gnu_debuglink name.
std::string debuginfo_path_for(const SymbolizerOptions& options) {
  std::string path = ":.debug:" + options.sysroot + "/usr/lib/debug";
  for (const std::string& dir : options.search_paths) {
    std::error_code error;
    std::filesystem::path absolute = std::filesystem::absolute(dir, error);
    path += ":" + (error ? dir : absolute.string());
  }
  return path;
}

}  // namespace

Symbolizer::Symbolizer(const TraceFile& trace, SymbolizerOptions options)
    : trace_(trace),
      options_(std::move(options)),
      debuginfo_path_(debuginfo_path_for(options_)),
      modules_(std::make_unique<TraceModules>(trace.db())) {
  module_binaries_.assign(modules_->size(), nullptr);
  module_looked_up_.assign(modules_->size(), false);
  read_symbol_cache(trace_, frames_by_ip_);
  for (const auto& entry : frames_by_ip_) cached_ips_.insert(entry.first);
}

Symbolizer::~Symbolizer() = default;

const std::vector<ReportFrame>& Symbolizer::frames(uint64_t ip) {
  auto known = frames_by_ip_.find(ip);
  if (known != frames_by_ip_.end()) return known->second;
  bool cacheable = true;
  std::vector<ReportFrame>& frames = frames_by_ip_[ip] = resolve(ip, cacheable);
  if (cacheable) resolved_since_cache_.push_back(ip);
  return frames;
}

std::vector<ReportFrame> Symbolizer::resolve(uint64_t ip, bool& cacheable) {
  // A return address may already belong to the next line or function; the
  // byte before it is inside the call.
  const uint64_t call = ip - 1;
  long index = modules_->find(call);
  if (index < 0) {
    ReportFrame unknown;
    unknown.module = "?";
    unknown.module_offset = call;
    return {unknown};
  }
  const TraceModule& module = modules_->at(index);
  const uint64_t address = call - module.load_bias;
  std::vector<ReportFrame> frames;
  if (ModuleDebugInfo* info = debug_info_for(index))
    frames = info->frames_at(address);
  else
    cacheable = false;
  if (frames.empty()) frames.emplace_back();
  for (ReportFrame& frame : frames) {
    frame.module = module.path;
    frame.module_offset = address;
  }
  return frames;
}

ModuleDebugInfo* Symbolizer::debug_info_for(size_t module_index) {
  if (module_looked_up_[module_index]) return module_binaries_[module_index];
  module_looked_up_[module_index] = true;
  const TraceModule& module = modules_->at(module_index);
  std::string key = module.path + '\n' + module.build_id;
  auto known = binaries_.find(key);
  if (known == binaries_.end()) {
    LocatedBinary located = locate_binary(module.path, module.build_id, options_);
    std::unique_ptr<ModuleDebugInfo> info;
    std::string problem = located.problem;
    if (!located.file.empty()) info = ModuleDebugInfo::open(located.file, debuginfo_path_, problem);
    if (!info) missing_.push_back(MissingModule{module.path, problem});
    known = binaries_.emplace(key, std::move(info)).first;
  }
  return module_binaries_[module_index] = known->second.get();
}

void Symbolizer::load_stack_nodes() {
  if (stack_nodes_loaded_) return;
  stack_nodes_loaded_ = true;
  Statement s(trace_.db(), "SELECT id, parent, ip FROM stack_nodes ORDER BY id");
  while (s.step()) {
    int64_t id = s.column_int64(0);
    if (id <= 0 || id > int64_t(UINT32_MAX)) continue;
    if (size_t(id) >= stack_nodes_.size()) stack_nodes_.resize(size_t(id) + 1, StackNode{0, 0});
    stack_nodes_[size_t(id)] = StackNode{static_cast<uint32_t>(s.column_int64(1)),
                                         static_cast<uint64_t>(s.column_int64(2))};
  }
}

std::vector<ReportFrame> Symbolizer::stack(uint32_t stack_id) {
  load_stack_nodes();
  std::vector<ReportFrame> out;
  // A well-formed trie has no cycles; the step limit keeps a damaged one from
  // looping forever.
  for (size_t steps = 0; stack_id != 0 && stack_id < stack_nodes_.size() &&
                         stack_nodes_[stack_id].ip != 0 && steps < stack_nodes_.size();
       ++steps) {
    const StackNode node = stack_nodes_[stack_id];
    const std::vector<ReportFrame>& frames_here = frames(node.ip);
    out.insert(out.end(), frames_here.begin(), frames_here.end());
    stack_id = node.parent;
  }
  return out;
}

SymbolizeSummary Symbolizer::symbolize_all() {
  load_stack_nodes();
  std::vector<uint64_t> ips;
  ips.reserve(stack_nodes_.size());
  for (const StackNode& node : stack_nodes_)
    if (node.ip != 0) ips.push_back(node.ip);
  // In address order, lookups walk each module and compilation unit in turn.
  std::sort(ips.begin(), ips.end());
  ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
  SymbolizeSummary summary;
  summary.ips = ips.size();
  for (uint64_t ip : ips) {
    if (cached_ips_.count(ip)) ++summary.from_cache;
    const std::vector<ReportFrame>& list = frames(ip);
    if (!list.front().function.empty()) ++summary.with_function;
    if (list.front().line > 0) ++summary.with_line;
  }
  return summary;
}

std::vector<std::string> Symbolizer::missing_modules() const {
  std::vector<std::string> paths;
  for (const MissingModule& module : missing_)
    if (std::find(paths.begin(), paths.end(), module.path) == paths.end())
      paths.push_back(module.path);
  return paths;
}

void Symbolizer::save_cache() {
  if (resolved_since_cache_.empty()) return;
  write_symbol_cache(trace_, frames_by_ip_, resolved_since_cache_);
  resolved_since_cache_.clear();
}

}  // namespace memtide::analysis
