// memtide export: a trace in the formats other tools read, folded stacks for
// flame graphs and Trace Event JSON for Perfetto and chrome://tracing.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "memtide/analysis/chrome_trace_export.h"
#include "memtide/analysis/folded_export.h"

namespace memtide::cli {

namespace {

constexpr const char* kExportUsage =
    "usage: memtide export FILE --folded OUT [--by bytes|count|peak|leaked] [--with-scopes]\n"
    "                           [--search-path DIR]... [--sysroot DIR]\n"
    "       memtide export FILE --chrome-trace OUT\n"
    "  --folded OUT        folded stacks of the heap blocks, one line per stack\n"
    "                      (flamegraph.pl, speedscope, inferno)\n"
    "  --by WEIGHT         what a stack's number counts: bytes allocated (default),\n"
    "                      count of blocks, peak (bytes live at the heap's high-water\n"
    "                      mark), leaked (bytes never freed)\n"
    "  --with-scopes       put each block's scope path above its outermost frame\n"
    "  --chrome-trace OUT  Trace Event JSON (Perfetto, chrome://tracing): the memory\n"
    "                      counters, scopes per thread, steps and marks\n"
    "  OUT may be - for stdout; both outputs may be asked for at once.\n"
    "Exit status: 0 written, 2 for a usage error, an unreadable trace or an\n"
    "unwritable output.\n";

struct ExportRequest {
  std::string trace;
  std::string folded, chrome_trace;
  bool weight_given = false;
  analysis::FoldedOptions folded_options;
};

int usage_error(const std::string& problem) {
  fprintf(stderr, "memtide export: %s\n%s", problem.c_str(), kExportUsage);
  return kExitUsage;
}

// Fills `request`; returns -1 to go on, else the exit status.
int parse(const std::vector<std::string>& args, ExportRequest& request) {
  std::vector<std::string> inputs;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool takes_value = arg == "--folded" || arg == "--chrome-trace" || arg == "--by" ||
                             arg == "--search-path" || arg == "--sysroot";
    if (takes_value && i + 1 >= args.size()) return usage_error(arg + " needs a value");
    if (arg == "--help" || arg == "-h") {
      fputs(kExportUsage, stdout);
      return kExitOk;
    } else if (arg == "--folded") {
      request.folded = args[++i];
    } else if (arg == "--chrome-trace") {
      request.chrome_trace = args[++i];
    } else if (arg == "--by") {
      request.weight_given = true;
      const std::string& word = args[++i];
      if (!analysis::parse_folded_weight(word, request.folded_options.weight))
        return usage_error("--by '" + word + "': expected bytes, count, peak or leaked");
    } else if (arg == "--with-scopes") {
      request.folded_options.with_scopes = true;
    } else if (arg == "--search-path") {
      request.folded_options.search_paths.push_back(args[++i]);
    } else if (arg == "--sysroot") {
      request.folded_options.sysroot = args[++i];
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option '" + arg + "'");
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty()) return usage_error("no trace file given");
  if (inputs.size() > 1)
    return usage_error("one trace file at a time (got " + std::to_string(inputs.size()) + ")");
  request.trace = inputs[0];
  if (request.folded.empty() && request.chrome_trace.empty())
    return usage_error("nothing to write: give --folded OUT and/or --chrome-trace OUT");
  if (request.folded.empty() && (request.weight_given || request.folded_options.with_scopes))
    return usage_error("--by and --with-scopes apply to --folded");
  if (request.folded == "-" && request.chrome_trace == "-")
    return usage_error("only one output can go to stdout");
  return -1;
}

// Runs `write` into OUT (stdout for -); a partial file is removed on failure.
template <class Write>
bool write_output(const std::string& path, Write write) {
  if (path == "-") {
    write(std::cout);
    std::cout.flush();
    return bool(std::cout);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    fprintf(stderr, "memtide export: cannot write %s\n", path.c_str());
    return false;
  }
  try {
    write(out);
    out.close();
  } catch (...) {
    out.close();
    std::filesystem::remove(path);
    throw;
  }
  if (!out) {
    fprintf(stderr, "memtide export: cannot write %s (disk full?)\n", path.c_str());
    std::filesystem::remove(path);
    return false;
  }
  return true;
}

const char* weight_words(analysis::FoldedWeight weight) {
  switch (weight) {
    case analysis::FoldedWeight::kBytes:
      return "bytes allocated";
    case analysis::FoldedWeight::kCount:
      return "blocks allocated";
    case analysis::FoldedWeight::kPeakBytes:
      return "bytes live at the peak";
    case analysis::FoldedWeight::kLeakedBytes:
      return "bytes never freed";
  }
  return "";
}

// Progress goes to stdout unless an export does.
FILE* summary_stream(const ExportRequest& request) {
  return request.folded == "-" || request.chrome_trace == "-" ? stderr : stdout;
}

}  // namespace

int export_command(const std::vector<std::string>& args) {
  ExportRequest request;
  if (const int status = parse(args, request); status >= 0) return status;
  FILE* summary = summary_stream(request);
  try {
    const analysis::TraceFile trace(request.trace);
    if (!request.folded.empty()) {
      analysis::FoldedStats stats;
      if (!write_output(request.folded, [&](std::ostream& out) {
            stats = analysis::write_folded_stacks(trace, request.folded_options, out);
          }))
        return kExitUsage;
      fprintf(summary, "%s: %llu stacks, %llu %s\n", request.folded.c_str(),
              (unsigned long long)stats.lines, (unsigned long long)stats.total_weight,
              weight_words(request.folded_options.weight));
      for (const std::string& missing : stats.missing_modules)
        fprintf(stderr, "memtide export: frames shown as module+offset: %s\n", missing.c_str());
      if (!stats.symbol_cache_error.empty())
        fprintf(stderr, "memtide export: symbol cache not saved: %s\n",
                stats.symbol_cache_error.c_str());
    }
    if (!request.chrome_trace.empty()) {
      analysis::ChromeTraceStats stats;
      if (!write_output(request.chrome_trace, [&](std::ostream& out) {
            stats = analysis::write_chrome_trace(trace, out);
          }))
        return kExitUsage;
      fprintf(summary, "%s: %llu trace events (%llu scopes, %llu still open at the end)\n",
              request.chrome_trace.c_str(), (unsigned long long)stats.trace_events,
              (unsigned long long)stats.scopes, (unsigned long long)stats.scopes_open_at_end);
    }
  } catch (const std::exception& e) {
    fprintf(stderr, "memtide export: %s\n", e.what());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace memtide::cli
