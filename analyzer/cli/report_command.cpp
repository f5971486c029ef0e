// memtide index, leaks and report: the CI job's commands.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "memtide/analysis/allocation_index.h"
#include "memtide/analysis/html_report.h"
#include "memtide/analysis/report_builder.h"

namespace memtide::cli {

namespace {

constexpr int kExitGateFailed = 1;

constexpr const char* kReportUsage =
    "usage: memtide report FILE|DIR... [--html OUT] [--json OUT] [--junit OUT]\n"
    "                      [--fail-on CATEGORIES] [--max-leaked-bytes N] [--max-peak N]\n"
    "                      [--suppressions FILE] [--search-path DIR]... [--sysroot DIR]\n"
    "                      [--title TEXT]\n"
    "  Leaks (classified by the agent's exit scan: definite, indirect, possible,\n"
    "  reachable; \"not freed\" when the process died without it), GPU memory not\n"
    "  freed, mismatched and unknown frees, growth across training steps, the peak\n"
    "  and the memory timeline of each traced process; a directory stands for\n"
    "  every trace in it (a forked or multi-process run).\n"
    "  --fail-on      comma-separated: definite, indirect, possible, reachable,\n"
    "                 not-freed, gpu, mismatch, unknown-free, growth\n"
    "  --max-leaked-bytes N   fail when a process leaks more (definite + indirect +\n"
    "                 possible, or not freed without a scan)\n"
    "  --max-peak N   fail when a process's heap peak is higher (bytes; K, M, G allowed)\n"
    "  --suppressions FILE  rules CATEGORY:FIELD:PATTERN (docs/reports.md)\n"
    "Exit status: 0 when every gate passes, 1 when a gate fails (each named on\n"
    "stderr and in the reports), 2 for a usage error or an unreadable trace.\n";

constexpr const char* kLeaksUsage =
    "usage: memtide leaks FILE|DIR... [--suppressions FILE] [--search-path DIR]...\n"
    "                     [--sysroot DIR]\n"
    "  A readable leak report for the terminal (see memtide report --help).\n";

// "4096", "64K", "3M", "2G": bytes.
bool parse_bytes(const std::string& text, uint64_t& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = strtoull(text.c_str(), &end, 10);
  if (errno || end == text.c_str() || text[0] == '-') return false;
  uint64_t scale = 1;
  const std::string suffix = end;
  if (suffix == "K" || suffix == "KiB")
    scale = 1ull << 10;
  else if (suffix == "M" || suffix == "MiB")
    scale = 1ull << 20;
  else if (suffix == "G" || suffix == "GiB")
    scale = 1ull << 30;
  else if (!suffix.empty())
    return false;
  out = value * scale;
  return true;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    fprintf(stderr, "memtide report: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

struct Parsed {
  analysis::ReportOptions options;
  std::vector<std::string> inputs;
  std::string html, json, junit;
};

// Parses the options shared by `report` and `leaks`; returns false after
// printing the problem.
bool parse(const char* command, const char* usage, const std::vector<std::string>& args,
           bool report_outputs, Parsed& p, bool& help) {
  auto value = [&](size_t& i, std::string& out) {
    if (i + 1 >= args.size()) {
      fprintf(stderr, "memtide %s: %s needs a value\n%s", command, args[i].c_str(), usage);
      return false;
    }
    out = args[++i];
    return true;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string v;
    if (arg == "--help" || arg == "-h") {
      help = true;
      return true;
    } else if (arg == "--suppressions") {
      if (!value(i, v)) return false;
      try {
        p.options.suppressions = analysis::Suppressions::load(v);
      } catch (const std::exception& e) {
        fprintf(stderr, "memtide %s: %s\n", command, e.what());
        return false;
      }
    } else if (arg == "--search-path") {
      if (!value(i, v)) return false;
      p.options.search_paths.push_back(v);
    } else if (arg == "--sysroot") {
      if (!value(i, p.options.sysroot)) return false;
    } else if (report_outputs && arg == "--html") {
      if (!value(i, p.html)) return false;
    } else if (report_outputs && arg == "--json") {
      if (!value(i, p.json)) return false;
    } else if (report_outputs && arg == "--junit") {
      if (!value(i, p.junit)) return false;
    } else if (report_outputs && arg == "--title") {
      if (!value(i, p.options.title)) return false;
    } else if (report_outputs && arg == "--fail-on") {
      if (!value(i, v)) return false;
      std::stringstream list(v);
      std::string category;
      while (std::getline(list, category, ',')) {
        const auto& known = analysis::report_categories();
        if (std::find(known.begin(), known.end(), category) == known.end()) {
          fprintf(stderr, "memtide %s: --fail-on: unknown category '%s'\n%s", command,
                  category.c_str(), usage);
          return false;
        }
        p.options.fail_on.push_back(category);
      }
    } else if (report_outputs && (arg == "--max-leaked-bytes" || arg == "--max-peak")) {
      uint64_t bytes = 0;
      if (!value(i, v)) return false;
      if (!parse_bytes(v, bytes)) {
        fprintf(stderr, "memtide %s: %s '%s': expected bytes (e.g. 4096, 64K, 3M, 2G)\n", command,
                arg.c_str(), v.c_str());
        return false;
      }
      (arg == "--max-peak" ? p.options.max_peak_bytes : p.options.max_leaked_bytes) = bytes;
    } else if (!arg.empty() && arg[0] == '-') {
      fprintf(stderr, "memtide %s: unknown option '%s'\n%s", command, arg.c_str(), usage);
      return false;
    } else {
      p.inputs.push_back(arg);
    }
  }
  if (p.inputs.empty()) {
    fprintf(stderr, "memtide %s: no trace file given\n%s", command, usage);
    return false;
  }
  return true;
}

}  // namespace

int index_command(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      puts(
          "usage: memtide index FILE...\n"
          "  Decodes the event pages into the allocations table (one row per block) and\n"
          "  its views; other commands do this by themselves when needed.");
      return kExitOk;
    }
    if (!arg.empty() && arg[0] == '-') {
      fprintf(stderr, "memtide index: unknown option '%s'\n", arg.c_str());
      return kExitUsage;
    }
    files.push_back(arg);
  }
  if (files.empty()) {
    fprintf(stderr, "memtide index: no trace file given\nusage: memtide index FILE...\n");
    return kExitUsage;
  }
  int status = kExitOk;
  for (const std::string& file : files) {
    try {
      analysis::TraceFile trace(file);
      const analysis::IndexStats s = analysis::ensure_index(trace);
      printf("%s: %s, %llu allocations, %llu live at the end, %llu frees of unknown pointers",
             file.c_str(), s.rebuilt ? "indexed" : "index up to date",
             (unsigned long long)s.allocations, (unsigned long long)s.live_at_end,
             (unsigned long long)s.unmatched_frees);
      if (s.rebuilt) printf(" (%llu events in %.2f s)", (unsigned long long)s.events, s.seconds);
      printf("\n");
    } catch (const std::exception& e) {
      fprintf(stderr, "memtide index: %s\n", e.what());
      status = kExitUsage;
    }
  }
  return status;
}

int leaks_command(const std::vector<std::string>& args) {
  Parsed p;
  bool help = false;
  if (!parse("leaks", kLeaksUsage, args, false, p, help)) return kExitUsage;
  if (help) {
    fputs(kLeaksUsage, stdout);
    return kExitOk;
  }
  try {
    const analysis::ReportData data =
        analysis::build_report(analysis::expand_trace_paths(p.inputs), p.options);
    fputs(analysis::render_text_report(data).c_str(), stdout);
  } catch (const std::exception& e) {
    fprintf(stderr, "memtide leaks: %s\n", e.what());
    return kExitUsage;
  }
  return kExitOk;
}

int report_command(const std::vector<std::string>& args) {
  Parsed p;
  bool help = false;
  if (!parse("report", kReportUsage, args, true, p, help)) return kExitUsage;
  if (help) {
    fputs(kReportUsage, stdout);
    return kExitOk;
  }
  // The HTML page also shows layers, the peak, temporaries and fragmentation.
  p.options.analyses = !p.html.empty();
  analysis::ReportData data;
  try {
    data = analysis::build_report(analysis::expand_trace_paths(p.inputs), p.options);
  } catch (const std::exception& e) {
    fprintf(stderr, "memtide report: %s\n", e.what());
    return kExitUsage;
  }
  if (!p.html.empty() && !write_file(p.html, analysis::render_html_report(data))) return kExitUsage;
  if (!p.json.empty() && !write_file(p.json, analysis::render_json_report(data))) return kExitUsage;
  if (!p.junit.empty() && !write_file(p.junit, analysis::render_junit_report(data)))
    return kExitUsage;
  if (p.html.empty() && p.json.empty() && p.junit.empty())
    fputs(analysis::render_text_report(data).c_str(), stdout);
  for (const analysis::GateVerdict& v : data.gates)
    if (!v.passed)
      fprintf(stderr, "memtide report: gate %s failed: %s\n", v.name.c_str(), v.detail.c_str());
  return data.gates_passed ? kExitOk : kExitGateFailed;
}

}  // namespace memtide::cli
