// memtide symbolize: resolves every stack of a trace once and stores the
// result in the trace, so reports read names and lines without the binaries.
#include <cstdio>

#include "commands.h"
#include "memtide/analysis/symbolizer.h"

namespace memtide::cli {
namespace {

const char* kSymbolizeUsage =
    "usage: memtide symbolize [--sysroot DIR] [--search-path DIR]... FILE...\n"
    "  --sysroot DIR      put DIR before every module path recorded in the trace\n"
    "  --search-path DIR  also look for binaries in DIR, by file name and by\n"
    "                     build-id (DIR/.build-id/xx/yyyy.debug); repeatable\n"
    "Writes the symbols into each trace; exit status 0, or 2 for a usage error,\n"
    "an unreadable trace or a trace that cannot be written.\n";

// "--name VALUE" or "--name=VALUE"; advances `i` past what it used.
bool take_value(const std::vector<std::string>& args, size_t& i, const std::string& name,
                std::string& value, bool& missing) {
  const std::string& arg = args[i];
  if (arg.rfind(name + "=", 0) == 0) {
    value = arg.substr(name.size() + 1);
    missing = value.empty();
    return true;
  }
  if (arg != name) return false;
  missing = i + 1 >= args.size() || args[i + 1].empty();
  if (!missing) value = args[++i];
  return true;
}

void print_result(const std::string& file, const analysis::SymbolizeSummary& summary,
                  const analysis::Symbolizer& symbols) {
  printf("%s: %llu of %llu ips resolved to a function, %llu with a source line", file.c_str(),
         static_cast<unsigned long long>(summary.with_function),
         static_cast<unsigned long long>(summary.ips),
         static_cast<unsigned long long>(summary.with_line));
  if (summary.from_cache)
    printf(" (%llu from the symbol cache)", static_cast<unsigned long long>(summary.from_cache));
  printf("\n");
  for (const analysis::MissingModule& module : symbols.missing_module_details())
    printf("  missing module %s: %s\n", module.path.c_str(), module.reason.c_str());
}

}  // namespace

int symbolize_command(const std::vector<std::string>& args) {
  analysis::SymbolizerOptions options;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string value;
    bool missing = false;
    if (arg == "--help" || arg == "-h") {
      fputs(kSymbolizeUsage, stdout);
      return kExitOk;
    }
    if (take_value(args, i, "--sysroot", value, missing) ||
        take_value(args, i, "--search-path", value, missing)) {
      if (missing) {
        fprintf(stderr, "memtide symbolize: %s needs a directory\n%s", arg.c_str(),
                kSymbolizeUsage);
        return kExitUsage;
      }
      if (arg.rfind("--sysroot", 0) == 0)
        options.sysroot = value;
      else
        options.search_paths.push_back(value);
    } else if (!arg.empty() && arg[0] == '-') {
      fprintf(stderr, "memtide symbolize: unknown option '%s'\n%s", arg.c_str(), kSymbolizeUsage);
      return kExitUsage;
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    fprintf(stderr, "memtide symbolize: no trace file given\n%s", kSymbolizeUsage);
    return kExitUsage;
  }
  int status = kExitOk;
  for (const std::string& file : files) {
    try {
      analysis::TraceFile trace(file);
      analysis::Symbolizer symbols(trace, options);
      analysis::SymbolizeSummary summary = symbols.symbolize_all();
      symbols.save_cache();
      print_result(file, summary, symbols);
    } catch (const std::exception& e) {
      fprintf(stderr, "memtide symbolize: %s\n", e.what());
      status = kExitUsage;
    }
  }
  return status;
}

}  // namespace memtide::cli
