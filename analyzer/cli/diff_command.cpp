#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "commands.h"
#include "memtide/analysis/run_diff.h"

namespace memtide::cli {

namespace {
constexpr const char* kUsage =
    "usage: memtide diff BASE NEW [--max-peak-increase P%] [--max-leak-increase N]\n"
    "                    [--json OUT] [--search-path DIR]... [--sysroot DIR]\n"
    "  Compares two traces: heap peak, leaked bytes, allocations per step, and the\n"
    "  allocation sites whose bytes grew most.\n"
    "Exit status: 0 when every gate passes, 1 when one fails, 2 for a usage error\n"
    "or an unreadable trace.\n";
}  // namespace

int diff_command(const std::vector<std::string>& args) {
  analysis::DiffOptions options;
  std::vector<std::string> traces;
  std::string json;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string* {
      if (i + 1 >= args.size()) {
        fprintf(stderr, "memtide diff: %s needs a value\n%s", arg.c_str(), kUsage);
        return nullptr;
      }
      return &args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return kExitOk;
    } else if (arg == "--max-peak-increase") {
      const std::string* v = value();
      if (!v) return kExitUsage;
      char* end = nullptr;
      const double percent = strtod(v->c_str(), &end);
      if (end == v->c_str() || (*end && std::string(end) != "%") || percent < 0) {
        fprintf(stderr, "memtide diff: --max-peak-increase '%s': expected a percentage like 5%%\n",
                v->c_str());
        return kExitUsage;
      }
      options.max_peak_increase_percent = percent;
    } else if (arg == "--max-leak-increase") {
      const std::string* v = value();
      if (!v) return kExitUsage;
      char* end = nullptr;
      const unsigned long long bytes = strtoull(v->c_str(), &end, 10);
      if (end == v->c_str() || *end || (*v)[0] == '-') {
        fprintf(stderr, "memtide diff: --max-leak-increase '%s': expected bytes\n", v->c_str());
        return kExitUsage;
      }
      options.max_leak_increase_bytes = bytes;
    } else if (arg == "--json") {
      const std::string* v = value();
      if (!v) return kExitUsage;
      json = *v;
    } else if (arg == "--search-path") {
      const std::string* v = value();
      if (!v) return kExitUsage;
      options.search_paths.push_back(*v);
    } else if (arg == "--sysroot") {
      const std::string* v = value();
      if (!v) return kExitUsage;
      options.sysroot = *v;
    } else if (!arg.empty() && arg[0] == '-') {
      fprintf(stderr, "memtide diff: unknown option '%s'\n%s", arg.c_str(), kUsage);
      return kExitUsage;
    } else {
      traces.push_back(arg);
    }
  }
  if (traces.size() != 2) {
    fprintf(stderr, "memtide diff: expected two traces, got %zu\n%s", traces.size(), kUsage);
    return kExitUsage;
  }
  analysis::RunDiff diff;
  try {
    diff = analysis::diff_runs(traces[0], traces[1], options);
  } catch (const std::exception& e) {
    fprintf(stderr, "memtide diff: %s\n", e.what());
    return kExitUsage;
  }
  fputs(analysis::render_diff_text(diff).c_str(), stdout);
  if (!json.empty()) {
    std::ofstream out(json);
    out << analysis::render_diff_json(diff);
    if (!out) {
      fprintf(stderr, "memtide diff: cannot write %s\n", json.c_str());
      return kExitUsage;
    }
  }
  for (const analysis::GateVerdict& v : diff.gates)
    if (!v.passed)
      fprintf(stderr, "memtide diff: gate %s failed: %s\n", v.name.c_str(), v.detail.c_str());
  return diff.gates_passed ? kExitOk : 1;
}

}  // namespace memtide::cli
