#include "stack_frames.h"

#include <charconv>

#include "memtide/analysis/symbolizer.h"

namespace memtide::analysis {

struct StackFrames::Impl {
  explicit Impl(const TraceFile& trace, const StackFramesOptions& options)
      : symbolizer(trace, SymbolizerOptions{options.search_paths, options.sysroot}) {}
  Symbolizer symbolizer;
};

StackFrames::StackFrames(const TraceFile& trace, const StackFramesOptions& options)
    : impl_(std::make_unique<Impl>(trace, options)) {}

StackFrames::~StackFrames() = default;

const std::vector<ReportFrame>& StackFrames::stack(uint32_t id) {
  auto cached = cache_.find(id);
  if (cached != cache_.end()) return cached->second;
  return cache_.emplace(id, impl_->symbolizer.stack(id)).first->second;
}

std::vector<std::string> StackFrames::missing_modules() const {
  std::vector<std::string> out;
  for (const MissingModule& m : impl_->symbolizer.missing_module_details())
    out.push_back(m.path + ": " + m.reason);
  return out;
}

void StackFrames::save() {
  impl_->symbolizer.save_cache();
}

std::string frame_address_label(const ReportFrame& frame) {
  const size_t slash = frame.module.rfind('/');
  std::string out = frame.module == "?" || frame.module.empty() ? std::string("[unknown]")
                    : slash == std::string::npos                ? frame.module
                                                                : frame.module.substr(slash + 1);
  char hex[20];
  const auto end = std::to_chars(hex, hex + sizeof(hex), frame.module_offset, 16);
  return out + "+0x" + std::string(hex, end.ptr);
}

}  // namespace memtide::analysis
