// Stacks of a trace as report frames: symbolized through the Symbolizer
// where the binaries are found, module+offset otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "memtide/analysis/report_data.h"
#include "memtide/analysis/trace_file.h"

namespace memtide::analysis {

struct StackFramesOptions {
  std::vector<std::string> search_paths;
  std::string sysroot;
};

class StackFrames {
 public:
  StackFrames(const TraceFile& trace, const StackFramesOptions& options);
  ~StackFrames();
  // Innermost first; empty for stack 0.
  const std::vector<ReportFrame>& stack(uint32_t id);
  // Modules whose binaries could not be read (frames are module+offset).
  std::vector<std::string> missing_modules() const;
  // Keeps what was resolved in the trace's symbol cache.
  void save();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unordered_map<uint32_t, std::vector<ReportFrame>> cache_;
};

// How a frame without a function name reads: "libfoo.so+0x1a2b" (the
// module's file name, "[unknown]" when no module holds the address).
std::string frame_address_label(const ReportFrame& frame);

}  // namespace memtide::analysis
