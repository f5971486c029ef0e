#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "memtide/analysis/fragmentation.h"

namespace memtide::cli {

namespace {

constexpr const char* kUsage =
    "usage: memtide frag FILE [--json [--blocks]] [--at TIME_NS | --at-peak | --at-mark NAME]\n"
    "                    [--points N] [--top N] [--search-path DIR]... [--sysroot DIR]\n"
    "  Allocator overhead (mallinfo2 arena + mapped chunks, and RSS, over live\n"
    "  requested heap bytes) at every sample; the free space in holes of the\n"
    "  heap arena, of each pool's segments and of each GPU segment over time;\n"
    "  in detail (extents, what could be released, the blocks pinning the\n"
    "  largest holes) at the heap peak and at the end, or only at:\n"
    "  --at TIME_NS    the state after every event up to this CLOCK_MONOTONIC time\n"
    "  --at-peak       the heap peak\n"
    "  --at-mark NAME  the first marker NAME (memtide_mark)\n"
    "  --points N      fragmentation points at most (evenly spread samples; default 100)\n"
    "  --top N         pinning blocks per state, and ranked per extent (default 5)\n"
    "  --blocks        with --json: every live block of every extent in the states\n"
    "                  (address, size, the holes beside it, pinning rank, scope,\n"
    "                  innermost frame): the map memtide-gui draws\n"
    "Exit status: 0 success, 2 usage error or unreadable trace.\n";

int usage_error(const std::string& why) {
  fprintf(stderr, "memtide frag: %s\n%s", why.c_str(), kUsage);
  return kExitUsage;
}

bool parse_count(const std::string& text, uint64_t& out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  char* end = nullptr;
  out = strtoull(text.c_str(), &end, 10);
  return *end == '\0';
}

}  // namespace

int frag_command(const std::vector<std::string>& args) {
  bool json = false;
  int moments = 0;  // --at, --at-peak and --at-mark exclude one another
  analysis::FragmentationOptions options;
  std::string file;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool takes_value = arg == "--at" || arg == "--at-mark" || arg == "--points" ||
                             arg == "--top" || arg == "--search-path" || arg == "--sysroot";
    if (takes_value && i + 1 == args.size()) return usage_error(arg + " needs a value");
    uint64_t n = 0;
    if (arg == "--json") {
      json = true;
    } else if (arg == "--blocks") {
      options.extent_blocks = true;
    } else if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return kExitOk;
    } else if (arg == "--at") {
      if (!parse_count(args[++i], n)) return usage_error("--at takes a time in ns: " + args[i]);
      options.moments = {false, false, n, ""};
      ++moments;
    } else if (arg == "--at-peak") {
      options.moments = {true, false, std::nullopt, ""};
      ++moments;
    } else if (arg == "--at-mark") {
      options.moments = {false, false, std::nullopt, args[++i]};
      if (options.moments.mark.empty()) return usage_error("--at-mark needs a marker name");
      ++moments;
    } else if (arg == "--points" || arg == "--top") {
      if (!parse_count(args[++i], n)) return usage_error(arg + " takes a count: " + args[i]);
      (arg == "--points" ? options.series_points : options.top_pinning) = size_t(n);
    } else if (arg == "--search-path") {
      options.search_paths.push_back(args[++i]);
    } else if (arg == "--sysroot") {
      options.sysroot = args[++i];
    } else if (!arg.empty() && arg[0] == '-') {
      return usage_error("unknown option '" + arg + "'");
    } else if (!file.empty()) {
      return usage_error("one trace at a time ('" + file + "' and '" + arg + "')");
    } else {
      file = arg;
    }
  }
  if (moments > 1) return usage_error("--at, --at-peak and --at-mark exclude one another");
  if (options.extent_blocks && !json) return usage_error("--blocks needs --json");
  if (file.empty()) return usage_error("no trace file given");
  try {
    analysis::TraceFile trace(file);
    analysis::FragmentationReport report = analysis::analyze_fragmentation(trace, options);
    if (!options.moments.mark.empty() && !report.mark_found) {
      fprintf(stderr, "memtide frag: %s: no marker named '%s'\n", file.c_str(),
              options.moments.mark.c_str());
      return kExitUsage;
    }
    const std::string text = json ? analysis::format_fragmentation_json(report)
                                  : analysis::format_fragmentation_text(report);
    fputs(text.c_str(), stdout);
  } catch (const std::exception& e) {
    fprintf(stderr, "memtide frag: %s\n", e.what());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace memtide::cli
