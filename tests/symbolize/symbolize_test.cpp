// Symbolizes the stacks of symbolize_target, traced under the agent: names,
// inlined frames, files and lines; binaries that moved, vanished or were
// rebuilt; the symbol cache; `memtide symbolize`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "harness.h"
#include "memtide/analysis/symbolizer.h"

namespace memtide::test {
namespace {

namespace fs = std::filesystem;
using analysis::ReportFrame;
using analysis::Symbolizer;
using analysis::SymbolizerOptions;
using analysis::TraceFile;

// Sizes symbolize_target allocates, one per allocation site.
constexpr uint64_t kPlainBytes = 10001;
constexpr uint64_t kInlinedBytes = 10002;
constexpr uint64_t kTemplateBytes = 2501 * sizeof(float);

constexpr const char* kSourceName = "symbolize_target.cpp";

// Line of each `// LINE:name` marker in the program's source.
const std::map<std::string, int>& source_lines() {
  static const std::map<std::string, int> lines = [] {
    std::map<std::string, int> out;
    std::ifstream source(MEMTIDE_SYMBOLIZE_SOURCE);
    std::string text;
    for (int number = 1; std::getline(source, text); ++number) {
      size_t at = text.find("// LINE:");
      if (at != std::string::npos) out[text.substr(at + 8)] = number;
    }
    return out;
  }();
  return lines;
}

int line_of(const std::string& marker) {
  auto found = source_lines().find(marker);
  EXPECT_NE(found, source_lines().end()) << "no marker LINE:" << marker;
  return found == source_lines().end() ? -1 : found->second;
}

std::string base_name(const std::string& path) {
  return fs::path(path).filename().string();
}

// Runs `program` under the agent into DIR/run.db.
std::string trace_program(const std::string& dir, const std::string& program) {
  std::string db = dir + "/run.db";
  RunResult run = run_traced(db, {program});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "allocated\n");
  return db;
}

// The stack of the one heap allocation of `bytes` bytes.
uint32_t stack_of_allocation(const std::string& db, uint64_t bytes) {
  uint32_t stack = 0;
  int found = 0;
  for (const Event& e : read_events(db))
    if (is_allocation(e.record.kind) && e.record.size == bytes) {
      stack = e.record.stack;
      ++found;
    }
  EXPECT_EQ(found, 1) << "allocations of " << bytes << " bytes";
  return stack;
}

struct SiteStacks {
  uint32_t plain, inlined, templated;
};

SiteStacks site_stacks(const std::string& db) {
  return SiteStacks{stack_of_allocation(db, kPlainBytes), stack_of_allocation(db, kInlinedBytes),
                    stack_of_allocation(db, kTemplateBytes)};
}

void expect_frame(const std::vector<ReportFrame>& stack, size_t depth, const std::string& function,
                  const std::string& marker, bool inlined, const std::string& module) {
  ASSERT_GT(stack.size(), depth) << function;
  const ReportFrame& frame = stack[depth];
  EXPECT_EQ(frame.function, function) << "depth " << depth;
  EXPECT_EQ(base_name(frame.file), kSourceName) << function;
  EXPECT_EQ(frame.line, line_of(marker)) << function;
  EXPECT_EQ(frame.inlined, inlined) << function;
  EXPECT_EQ(frame.module, module) << function;
}

// The three allocation stacks, symbolized with their binary at hand.
void expect_symbolized(Symbolizer& symbols, const SiteStacks& stacks, const std::string& module) {
  std::vector<ReportFrame> plain = symbols.stack(stacks.plain);
  expect_frame(plain, 0, "plain_alloc(unsigned long)", "plain_alloc", false, module);
  expect_frame(plain, 1, "main", "main_plain", false, module);

  std::vector<ReportFrame> inlined = symbols.stack(stacks.inlined);
  expect_frame(inlined, 0, "inlined_alloc(unsigned long)", "inlined_alloc", true, module);
  expect_frame(inlined, 1, "inlining_caller(unsigned long)", "inlined_call", false, module);
  expect_frame(inlined, 2, "main", "main_inlining", false, module);
  // Both frames of one return address share its module offset.
  ASSERT_GE(inlined.size(), 2u);
  EXPECT_EQ(inlined[0].module_offset, inlined[1].module_offset);

  std::vector<ReportFrame> templated = symbols.stack(stacks.templated);
  expect_frame(templated, 0, "memtide_sym::Matrix<float>::grow(unsigned long)", "template_alloc",
               false, module);
  expect_frame(templated, 1, "main", "main_template", false, module);
}

// Frames of `module` hold only the module and an offset.
void expect_unresolved(const std::vector<ReportFrame>& stack, const std::string& module,
                       size_t program_frames) {
  ASSERT_GE(stack.size(), program_frames);
  for (size_t depth = 0; depth < program_frames; ++depth) {
    EXPECT_EQ(stack[depth].module, module);
    EXPECT_TRUE(stack[depth].function.empty()) << stack[depth].function;
    EXPECT_TRUE(stack[depth].file.empty());
    EXPECT_EQ(stack[depth].line, 0);
    EXPECT_FALSE(stack[depth].inlined);
    EXPECT_NE(stack[depth].module_offset, 0u);
  }
}

std::vector<uint64_t> offsets(const std::vector<ReportFrame>& stack, size_t count) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < count && i < stack.size(); ++i) out.push_back(stack[i].module_offset);
  return out;
}

// A copy of `program` at DIR/NAME, traced from there.
std::string copy_program(const std::string& program, const std::string& dir,
                         const std::string& name = "symbolize_target") {
  fs::create_directories(dir);
  std::string copy = dir + "/" + name;
  fs::copy_file(program, copy, fs::copy_options::overwrite_existing);
  return copy;
}

TEST(Symbolize, FunctionsInlinedFramesFilesAndLines) {
  std::string dir = scratch_dir("symbolize_names");
  std::string program = program_path("symbolize_target");
  std::string db = trace_program(dir, program);
  SiteStacks stacks = site_stacks(db);
  TraceFile trace(db);
  Symbolizer symbols(trace);
  expect_symbolized(symbols, stacks, query_text(db, "SELECT path FROM modules WHERE id = 1"));
  EXPECT_EQ(fs::canonical(query_text(db, "SELECT path FROM modules WHERE id = 1")),
            fs::canonical(program));
  EXPECT_TRUE(symbols.missing_modules().empty());
}

TEST(Symbolize, IpOutsideEveryModuleGivesTheAddress) {
  std::string dir = scratch_dir("symbolize_no_module");
  std::string db = trace_program(dir, program_path("symbolize_target"));
  TraceFile trace(db);
  Symbolizer symbols(trace);
  const std::vector<ReportFrame>& frames = symbols.frames(0x10);  // the zero page: never mapped
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].module, "?");
  EXPECT_EQ(frames[0].module_offset, 0xfu);  // the return address minus 1
  EXPECT_TRUE(frames[0].function.empty());
}

TEST(Symbolize, MissingBinaryFallsBackToModuleAndOffsetUntilFound) {
  std::string dir = scratch_dir("symbolize_missing");
  std::string program = program_path("symbolize_target");
  std::string copy = copy_program(program, dir + "/bin");
  std::string db = trace_program(dir, copy);
  SiteStacks stacks = site_stacks(db);
  std::string recorded = query_text(db, "SELECT path FROM modules WHERE id = 1");
  ASSERT_EQ(fs::canonical(recorded), fs::canonical(copy));
  fs::remove(copy);

  std::vector<uint64_t> unresolved_offsets;
  {
    TraceFile trace(db);
    Symbolizer symbols(trace);
    std::vector<ReportFrame> inlined = symbols.stack(stacks.inlined);
    // inlining_caller and main: one frame each, the inlined call is unknown.
    expect_unresolved(inlined, recorded, 2);
    unresolved_offsets = offsets(inlined, 2);
    EXPECT_EQ(symbols.missing_modules(), std::vector<std::string>{recorded});
    ASSERT_EQ(symbols.missing_module_details().size(), 1u);
    EXPECT_EQ(symbols.missing_module_details()[0].reason, "not found");
    // Ips of a missing module stay out of the cache, for a later run to resolve.
    symbols.save_cache();
  }

  // A copy of the same build in a search directory: found by file name.
  std::string found_dir = dir + "/found";
  copy_program(program, found_dir);
  {
    TraceFile trace(db);
    Symbolizer symbols(trace, SymbolizerOptions{{found_dir}, ""});
    expect_symbolized(symbols, stacks, recorded);
    EXPECT_TRUE(symbols.missing_modules().empty());
    std::vector<ReportFrame> inlined = symbols.stack(stacks.inlined);
    // The offsets given without the binary are those of the same code.
    EXPECT_EQ(offsets(inlined, 3),
              (std::vector<uint64_t>{unresolved_offsets[0], unresolved_offsets[0],
                                     unresolved_offsets[1]}));
  }

  // Found by build-id in DIR/.build-id/xx/yyyy.debug.
  std::string build_id = query_text(db, "SELECT build_id FROM modules WHERE id = 1");
  ASSERT_GT(build_id.size(), 2u);
  std::string ids_dir = dir + "/ids";
  copy_program(program, ids_dir + "/.build-id/" + build_id.substr(0, 2),
               build_id.substr(2) + ".debug");
  {
    TraceFile trace(db);
    Symbolizer symbols(trace, SymbolizerOptions{{ids_dir}, ""});
    expect_symbolized(symbols, stacks, recorded);
  }

  // The recorded path under a sysroot.
  std::string sysroot = dir + "/sysroot";
  copy_program(program, sysroot + fs::path(recorded).parent_path().string());
  {
    TraceFile trace(db);
    Symbolizer symbols(trace, SymbolizerOptions{{}, sysroot});
    expect_symbolized(symbols, stacks, recorded);
  }
}

TEST(Symbolize, BinaryOfAnotherBuildIsMissing) {
  std::string dir = scratch_dir("symbolize_mismatch");
  std::string copy = copy_program(program_path("symbolize_target"), dir + "/bin");
  std::string db = trace_program(dir, copy);
  SiteStacks stacks = site_stacks(db);
  std::string recorded = query_text(db, "SELECT path FROM modules WHERE id = 1");
  fs::remove(copy);
  // Another program under the same name, in the search directory and at the
  // recorded path itself.
  std::string other_dir = dir + "/other";
  copy_program(program_path("other_target"), other_dir);
  copy_program(program_path("other_target"), dir + "/bin");
  TraceFile trace(db);
  Symbolizer symbols(trace, SymbolizerOptions{{other_dir}, ""});
  expect_unresolved(symbols.stack(stacks.plain), recorded, 2);
  EXPECT_EQ(symbols.missing_modules(), std::vector<std::string>{recorded});
  ASSERT_EQ(symbols.missing_module_details().size(), 1u);
  EXPECT_EQ(symbols.missing_module_details()[0].reason.rfind("build-id differs (", 0), 0u)
      << symbols.missing_module_details()[0].reason;
}

TEST(Symbolize, CacheServesFramesWithoutTheBinary) {
  std::string dir = scratch_dir("symbolize_cache");
  std::string copy = copy_program(program_path("symbolize_target"), dir + "/bin");
  std::string db = trace_program(dir, copy);
  SiteStacks stacks = site_stacks(db);
  std::string recorded = query_text(db, "SELECT path FROM modules WHERE id = 1");
  std::vector<std::vector<ReportFrame>> first;
  {
    TraceFile trace(db);
    Symbolizer symbols(trace);
    analysis::SymbolizeSummary summary = symbols.symbolize_all();
    EXPECT_EQ(summary.from_cache, 0u);
    EXPECT_EQ(uint64_t(summary.ips),
              uint64_t(query_int(db, "SELECT count(DISTINCT ip) FROM stack_nodes")));
    for (uint32_t stack : {stacks.plain, stacks.inlined, stacks.templated})
      first.push_back(symbols.stack(stack));
    symbols.save_cache();
  }
  EXPECT_EQ(query_int(db, "SELECT count(DISTINCT ip) FROM symbols"),
            query_int(db, "SELECT count(DISTINCT ip) FROM stack_nodes"));
  fs::remove(copy);

  TraceFile trace(db);
  Symbolizer symbols(trace);
  analysis::SymbolizeSummary summary = symbols.symbolize_all();
  EXPECT_EQ(summary.from_cache, summary.ips);
  expect_symbolized(symbols, stacks, recorded);
  std::vector<std::vector<ReportFrame>> again;
  for (uint32_t stack : {stacks.plain, stacks.inlined, stacks.templated})
    again.push_back(symbols.stack(stack));
  ASSERT_EQ(again.size(), first.size());
  for (size_t s = 0; s < first.size(); ++s) {
    ASSERT_EQ(again[s].size(), first[s].size());
    for (size_t i = 0; i < first[s].size(); ++i) {
      EXPECT_EQ(again[s][i].function, first[s][i].function);
      EXPECT_EQ(again[s][i].file, first[s][i].file);
      EXPECT_EQ(again[s][i].line, first[s][i].line);
      EXPECT_EQ(again[s][i].module, first[s][i].module);
      EXPECT_EQ(again[s][i].module_offset, first[s][i].module_offset);
      EXPECT_EQ(again[s][i].inlined, first[s][i].inlined);
    }
  }
  EXPECT_TRUE(symbols.missing_modules().empty());
}

// ---- memtide symbolize ----

RunResult symbolize_cli(std::vector<std::string> args) {
  args.insert(args.begin(), {cli_path(), "symbolize"});
  return run_command(args);
}

TEST(SymbolizeCommand, UsageErrorsExitWith2) {
  RunResult none = symbolize_cli({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no trace file given"), std::string::npos) << none.err;

  RunResult unknown = symbolize_cli({"--frobnicate", "x.db"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown option '--frobnicate'"), std::string::npos) << unknown.err;

  for (const char* option : {"--search-path", "--sysroot"}) {
    RunResult bare = symbolize_cli({option});
    EXPECT_EQ(bare.exit_code, 2) << option;
    EXPECT_NE(bare.err.find(std::string(option) + " needs a directory"), std::string::npos)
        << bare.err;
  }

  RunResult absent = symbolize_cli({"/nonexistent/run.db"});
  EXPECT_EQ(absent.exit_code, 2);
  EXPECT_NE(absent.err.find("/nonexistent/run.db: no such file"), std::string::npos) << absent.err;

  RunResult help = symbolize_cli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.out.rfind("usage: memtide symbolize", 0), 0u) << help.out;
}

TEST(SymbolizeCommand, FillsTheCacheAndNamesMissingModules) {
  std::string dir = scratch_dir("symbolize_command");
  std::string program = program_path("symbolize_target");
  std::string copy = copy_program(program, dir + "/bin");
  std::string db = trace_program(dir, copy);
  SiteStacks stacks = site_stacks(db);
  std::string recorded = query_text(db, "SELECT path FROM modules WHERE id = 1");
  fs::remove(copy);

  RunResult missing = symbolize_cli({db});
  EXPECT_EQ(missing.exit_code, 0) << missing.err;
  EXPECT_NE(missing.out.find("  missing module " + recorded + ": not found\n"), std::string::npos)
      << missing.out;

  std::string found_dir = dir + "/found";
  copy_program(program, found_dir);
  RunResult found = symbolize_cli({"--search-path=" + found_dir, db});
  EXPECT_EQ(found.exit_code, 0) << found.err;
  EXPECT_EQ(found.out.find("missing module " + recorded), std::string::npos) << found.out;
  EXPECT_EQ(found.out.rfind(db + ": ", 0), 0u) << found.out;

  // Everything is in the cache now: no binary needed.
  fs::remove_all(found_dir);
  TraceFile trace(db);
  Symbolizer symbols(trace);
  expect_symbolized(symbols, stacks, recorded);
  EXPECT_TRUE(symbols.missing_modules().empty());

  // One good and one bad file: the good one is done, the status says 2.
  RunResult mixed = symbolize_cli({db, dir + "/nothing.db"});
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.out.find(db + ": "), std::string::npos) << mixed.out;
  EXPECT_NE(mixed.out.find("from the symbol cache"), std::string::npos) << mixed.out;
}

}  // namespace
}  // namespace memtide::test
