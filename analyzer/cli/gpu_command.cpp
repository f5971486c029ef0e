#include <cstdio>

#include "commands.h"
#include "memtide/analysis/gpu_summary.h"

namespace memtide::cli {

namespace {
constexpr const char* kUsage =
    "usage: memtide gpu [--json] [--at-mark NAME] FILE...\n"
    "  GPU memory per device and class: allocations, peak, live at the end (by\n"
    "  the library that made the calls), failed calls; --at-mark NAME also gives\n"
    "  the live bytes at the first marker NAME.\n";
}  // namespace

int gpu_command(const std::vector<std::string>& args) {
  bool json = false;
  std::string mark;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--at-mark") {
      if (i + 1 == args.size()) {
        fprintf(stderr, "memtide gpu: --at-mark needs a marker name\n%s", kUsage);
        return kExitUsage;
      }
      mark = args[++i];
    } else if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return kExitOk;
    } else if (!arg.empty() && arg[0] == '-') {
      fprintf(stderr, "memtide gpu: unknown option '%s'\n%s", arg.c_str(), kUsage);
      return kExitUsage;
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    fprintf(stderr, "memtide gpu: no trace file given\n%s", kUsage);
    return kExitUsage;
  }
  int status = kExitOk;
  for (size_t i = 0; i < files.size(); ++i) {
    try {
      analysis::TraceFile trace(files[i]);
      analysis::GpuSummary summary = analysis::summarize_gpu(trace, mark);
      if (i) fputs("\n", stdout);
      fputs(
          (json ? analysis::format_gpu_json(summary) : analysis::format_gpu_text(summary)).c_str(),
          stdout);
    } catch (const std::exception& e) {
      fprintf(stderr, "memtide gpu: %s\n", e.what());
      status = kExitUsage;
    }
  }
  return status;
}

}  // namespace memtide::cli
