// memtide: the command-line face of the analysis library.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"

namespace {

const char* kUsage = R"(usage: memtide <command> [options]

Commands:
  run [-o FILE] [options] -- PROGRAM [ARGS...]
                 run PROGRAM with the memtide agent preloaded and write its trace
  info [--json] FILE...
                 what a trace holds: events by kind, threads, processes, scopes,
                 duration, whether the run ended cleanly
  gpu [--json] [--at-mark NAME] FILE...
                 GPU memory per device and class: peak, live at the end by the
                 library that allocated it, failed calls, what GPU tracking did
  symbolize [--sysroot DIR] [--search-path DIR]... FILE...
                 resolve every stack to functions, files and lines (inlined
                 calls included) and store them in the trace, so that reports
                 need no binaries afterwards
  index FILE...  decode the events into the allocations table (done on demand)
  leaks FILE|DIR...
                 leaks by category, stack and scope, errors and growth, as text
  report FILE|DIR... [--html F] [--json F] [--junit F] [--fail-on LIST]
                 [--max-leaked-bytes N] [--max-peak N] [--suppressions F]
                 the CI report and its gates (`memtide report --help`)
  diff BASE NEW [--max-peak-increase P%] [--max-leak-increase N]
                 compare two runs: peak, leaked bytes, allocations per step,
                 the stacks that grew most
  export FILE --folded OUT [--by bytes|count|peak|leaked] [--with-scopes]
  export FILE --chrome-trace OUT
                 folded stacks for flame graphs (flamegraph.pl, speedscope,
                 inferno); Trace Event JSON for Perfetto and chrome://tracing
  layers FILE [--tree|--flat] [--sort COLUMN] [--phase NAME] [--step N] [--json]
                 lifetimes by scope (layer x phase): bytes, peak of live blocks,
                 lifetimes, bytes that outlive the scope and where they are freed
  peak FILE [--json]
                 the high-water mark (host, each GPU, all together): when, and
                 what was live by scope and stack; the peak of every step
  top FILE [--by bytes|count|temporaries] [--json]
                 allocation stacks and scopes by bytes, count or temporaries
  frag FILE [--json] [--at TIME_NS | --at-peak | --at-mark NAME]
                 allocator overhead and fragmentation over time: holes in the
                 heap arena, pools and GPU segments, what could be released,
                 the blocks pinning the largest holes
  gui [TRACE|DIR]...
                 browse traces in memtide-gui (timeline, layers, leaks, call
                 trees, fragmentation, two runs compared)
  help           this text; `memtide run --help` lists the agent's options

Exit status:
  run            the traced program's own status (128+N when killed by signal N),
                 2 when memtide itself could not start it
  report, diff   0 when every gate passes, 1 when one fails, 2 for a usage error
                 or an unreadable trace
  other commands 0 on success, 2 for a usage error or an unreadable trace
)";

std::string self_path(const char* argv0) {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, n) : std::string(argv0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fputs(kUsage, stderr);
    return memtide::cli::kExitUsage;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "help" || command == "--help" || command == "-h") {
    fputs(kUsage, stdout);
    return memtide::cli::kExitOk;
  }
  if (command == "--version") {
    printf("memtide %s\n", MEMTIDE_VERSION);
    return memtide::cli::kExitOk;
  }
  if (command == "run") return memtide::cli::run_command(args, self_path(argv[0]));
  if (command == "info") return memtide::cli::info_command(args);
  if (command == "gpu") return memtide::cli::gpu_command(args);
  if (command == "index") return memtide::cli::index_command(args);
  if (command == "leaks") return memtide::cli::leaks_command(args);
  if (command == "report") return memtide::cli::report_command(args);
  if (command == "diff") return memtide::cli::diff_command(args);
  if (command == "symbolize") return memtide::cli::symbolize_command(args);
  if (command == "frag") return memtide::cli::frag_command(args);
  if (command == "layers") return memtide::cli::layers_command(args);
  if (command == "peak") return memtide::cli::peak_command(args);
  if (command == "top") return memtide::cli::top_command(args);
  if (command == "export") return memtide::cli::export_command(args);
  if (command == "gui") return memtide::cli::gui_command(args, self_path(argv[0]));
  fprintf(stderr, "memtide: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return memtide::cli::kExitUsage;
}
