#include <cstdio>

#include "commands.h"
#include "memtide/analysis/summary.h"

namespace memtide::cli {

int info_command(const std::vector<std::string>& args) {
  bool json = false;
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    if (arg == "--json")
      json = true;
    else if (arg == "--help" || arg == "-h") {
      puts("usage: memtide info [--json] FILE...");
      return kExitOk;
    } else if (!arg.empty() && arg[0] == '-') {
      fprintf(stderr, "memtide info: unknown option '%s'\n", arg.c_str());
      return kExitUsage;
    } else
      files.push_back(arg);
  }
  if (files.empty()) {
    fprintf(stderr, "memtide info: no trace file given\nusage: memtide info [--json] FILE...\n");
    return kExitUsage;
  }
  int status = kExitOk;
  for (size_t i = 0; i < files.size(); ++i) {
    try {
      analysis::TraceFile trace(files[i]);
      analysis::TraceSummary summary = analysis::summarize(trace);
      std::string text =
          json ? analysis::format_summary_json(summary) : analysis::format_summary_text(summary);
      if (i) fputs("\n", stdout);
      fputs(text.c_str(), stdout);
    } catch (const std::exception& e) {
      fprintf(stderr, "memtide info: %s\n", e.what());
      status = kExitUsage;
    }
  }
  return status;
}

}  // namespace memtide::cli
