// memtide export on a program with known stacks, scopes, steps and marks
// (tests/programs/export_shapes.cpp): folded stacks whose weights are the
// program's own numbers, and Trace Event JSON checked event by event against
// the trace it came from.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "harness.h"

namespace memtide::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

RunResult memtide(std::vector<std::string> args) {
  args.insert(args.begin(), cli_path());
  return run_command(args);
}

// A trace of export_shapes (its hostile names when `hostile`), sampled every
// millisecond so that the run leaves several samples.
std::string traced_shapes(const std::string& name, bool hostile = false) {
  const std::string db = scratch_dir("export_" + name) + "/run.db";
  std::vector<std::string> argv = {program_path("export_shapes")};
  if (hostile) argv.push_back("hostile");
  RunOptions options;
  options.env["MEMTIDE_SAMPLE_MS"] = "1";
  const RunResult r = run_traced(db, argv, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return db;
}

struct FoldedLine {
  std::vector<std::string> frames;  // outermost first
  uint64_t weight;
};

// Parses a folded file, checking that every line has the form flame-graph
// tools read.
std::vector<FoldedLine> parse_folded(const std::string& text) {
  static const std::regex kLine("^[^;\n]+(;[^;\n]+)* [0-9]+$");
  std::vector<FoldedLine> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_TRUE(std::regex_match(line, kLine)) << "malformed folded line: " << line;
    const size_t space = line.rfind(' ');
    FoldedLine parsed{{}, std::stoull(line.substr(space + 1))};
    std::stringstream frames(line.substr(0, space));
    std::string frame;
    while (std::getline(frames, frame, ';')) parsed.frames.push_back(frame);
    lines.push_back(parsed);
  }
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  return lines;
}

std::vector<FoldedLine> export_folded(const std::string& db, std::vector<std::string> extra) {
  const std::string out = db + ".folded";
  std::vector<std::string> args = {"export", db, "--folded", out};
  args.insert(args.end(), extra.begin(), extra.end());
  const RunResult r = memtide(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return parse_folded(read_file(out));
}

uint64_t total(const std::vector<FoldedLine>& lines) {
  uint64_t sum = 0;
  for (const FoldedLine& l : lines) sum += l.weight;
  return sum;
}

// The weight of the lines whose innermost frame is `function`.
uint64_t weight_of(const std::vector<FoldedLine>& lines, const std::string& function) {
  uint64_t sum = 0;
  for (const FoldedLine& l : lines)
    if (l.frames.back() == function) sum += l.weight;
  return sum;
}

const std::string kHeapBlocks = " FROM allocations WHERE family IN (1, 2, 3)";

TEST(ExportFolded, BytesAndCountsAreTheProgramsAllocations) {
  const std::string db = traced_shapes("bytes");
  ASSERT_EQ(memtide({"index", db}).exit_code, 0);
  const auto bytes = export_folded(db, {});
  EXPECT_EQ(weight_of(bytes, "alloc_activation()"), 3u * 10000);
  EXPECT_EQ(weight_of(bytes, "alloc_gradient()"), 3u * 3000);
  EXPECT_EQ(weight_of(bytes, "alloc_weights()"), 4096u);
  EXPECT_EQ(weight_of(bytes, "alloc_late()"), 2000u);
  EXPECT_EQ(weight_of(bytes, "alloc_batch()"), 500u);
  EXPECT_EQ(int64_t(total(bytes)), query_int(db, "SELECT sum(size)" + kHeapBlocks));
  // Outermost first: main calls the allocating function, which is last.
  for (const FoldedLine& l : bytes) {
    if (l.frames.back() != "alloc_activation()") continue;
    ASSERT_GE(l.frames.size(), 2u);
    EXPECT_EQ(l.frames[l.frames.size() - 2], "main");
  }

  const auto count = export_folded(db, {"--by", "count"});
  EXPECT_EQ(weight_of(count, "alloc_activation()"), 3u);
  EXPECT_EQ(weight_of(count, "alloc_gradient()"), 3u);
  EXPECT_EQ(weight_of(count, "alloc_weights()"), 1u);
  EXPECT_EQ(int64_t(total(count)), query_int(db, "SELECT count(*)" + kHeapBlocks));
}

TEST(ExportFolded, PeakAndLeakedAreTheLiveBlocksAtThoseMoments) {
  const std::string db = traced_shapes("peak");
  ASSERT_EQ(memtide({"index", db}).exit_code, 0);
  // At the peak: the weights, one activation and one gradient (every step
  // reaches it; the first one sets it). alloc_late comes after and is smaller.
  const auto peak = export_folded(db, {"--by", "peak"});
  EXPECT_EQ(weight_of(peak, "alloc_activation()"), 10000u);
  EXPECT_EQ(weight_of(peak, "alloc_gradient()"), 3000u);
  EXPECT_EQ(weight_of(peak, "alloc_weights()"), 4096u);
  EXPECT_EQ(weight_of(peak, "alloc_late()"), 0u);
  EXPECT_EQ(weight_of(peak, "alloc_batch()"), 0u);
  EXPECT_EQ(int64_t(total(peak)),
            query_int(db, "SELECT value FROM meta WHERE key = 'index_peak_heap_bytes'"));

  const auto leaked = export_folded(db, {"--by", "leaked"});
  EXPECT_EQ(weight_of(leaked, "alloc_weights()"), 4096u);
  EXPECT_EQ(weight_of(leaked, "alloc_late()"), 2000u);
  EXPECT_EQ(weight_of(leaked, "alloc_activation()"), 0u);
  EXPECT_EQ(weight_of(leaked, "alloc_gradient()"), 0u);
  EXPECT_EQ(int64_t(total(leaked)),
            query_int(db, "SELECT sum(size)" + kHeapBlocks + " AND free_seq IS NULL"));
}

TEST(ExportFolded, WithScopesTheScopePathIsTheRoot) {
  const std::string db = traced_shapes("scopes");
  const auto lines = export_folded(db, {"--with-scopes"});
  const std::map<std::string, std::vector<std::string>> roots = {
      {"alloc_activation()", {"model", "layer1", "forward"}},
      {"alloc_gradient()", {"model", "layer1", "backward"}},
      {"alloc_weights()", {"model"}},
      {"alloc_batch()", {"loader"}},
  };
  for (const auto& [function, scope] : roots) {
    SCOPED_TRACE(function);
    bool seen = false;
    for (const FoldedLine& l : lines) {
      if (l.frames.back() != function) continue;
      seen = true;
      ASSERT_GT(l.frames.size(), scope.size());
      EXPECT_TRUE(std::equal(scope.begin(), scope.end(), l.frames.begin()));
      EXPECT_NE(l.frames[scope.size()], "model");
    }
    EXPECT_TRUE(seen);
  }
  EXPECT_EQ(weight_of(lines, "alloc_activation()"), 30000u);
  for (const FoldedLine& l : lines) {
    if (l.frames.back() == "alloc_late()") {
      EXPECT_NE(l.frames[0], "model");  // allocated outside every scope
    }
  }
  EXPECT_EQ(total(lines), total(export_folded(db, {})));
}

nlohmann::json export_chrome_trace(const std::string& db, std::string* text = nullptr) {
  const std::string out = db + ".json";
  const RunResult r = memtide({"export", db, "--chrome-trace", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string json = read_file(out);
  if (text) *text = json;
  return nlohmann::json::parse(json);  // throws, failing the test, when invalid
}

// Every event has the fields its phase needs; B and E pair up per thread.
void check_trace_events(const nlohmann::json& trace) {
  ASSERT_TRUE(trace.contains("traceEvents"));
  std::map<int64_t, std::vector<std::string>> open;  // per tid, names of open B events
  for (const auto& e : trace["traceEvents"]) {
    SCOPED_TRACE(e.dump());
    ASSERT_TRUE(e["name"].is_string());
    ASSERT_TRUE(e["ph"].is_string());
    ASSERT_TRUE(e["ts"].is_number());
    ASSERT_TRUE(e["pid"].is_number_integer());
    ASSERT_TRUE(e["tid"].is_number_integer());
    const std::string ph = e["ph"];
    const int64_t tid = e["tid"];
    if (ph == "C") {
      ASSERT_TRUE(e["args"].is_object());
      ASSERT_FALSE(e["args"].empty());
      for (const auto& value : e["args"]) EXPECT_TRUE(value.is_number_integer());
    } else if (ph == "B") {
      open[tid].push_back(e["name"]);
    } else if (ph == "E") {
      ASSERT_FALSE(open[tid].empty()) << "E without B";
      EXPECT_EQ(open[tid].back(), e["name"].get<std::string>());
      open[tid].pop_back();
    } else if (ph == "i") {
      EXPECT_TRUE(e["s"] == "t" || e["s"] == "p" || e["s"] == "g");
    } else if (ph == "M") {
      EXPECT_TRUE(e["args"]["name"].is_string());
    } else {
      ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  for (const auto& [tid, names] : open) EXPECT_TRUE(names.empty()) << "unclosed B on " << tid;
}

int64_t ns_of(const nlohmann::json& ts) {
  return std::llround(ts.get<double>() * 1000);
}

TEST(ExportChromeTrace, EventsMatchTheTrace) {
  const std::string db = traced_shapes("chrome");
  const nlohmann::json trace = export_chrome_trace(db);
  check_trace_events(trace);
  const int64_t start = query_int(db, "SELECT value FROM meta WHERE key = 'start_time_ns'");
  const int64_t pid = query_int(db, "SELECT pid FROM processes");
  for (const auto& e : trace["traceEvents"]) EXPECT_EQ(e["pid"].get<int64_t>(), pid);

  // Counters: one per sample and quantity, with the sample's values.
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> counters;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "C") counters[e["name"]].push_back({ns_of(e["ts"]), e["args"]["bytes"]});
  const std::map<std::string, std::string> columns = {{"live heap", "live_heap_bytes"},
                                                      {"live mmap", "live_mmap_bytes"},
                                                      {"live pool", "live_pool_bytes"},
                                                      {"RSS", "rss_bytes"}};
  ASSERT_GT(query_int(db, "SELECT count(*) FROM samples"), 0);
  for (const auto& [name, column] : columns) {
    SCOPED_TRACE(name);
    std::vector<std::pair<int64_t, int64_t>> expected;
    std::stringstream rows(
        query_text(db, "SELECT group_concat((time_ns - " + std::to_string(start) + ") || ' ' || " +
                           column + ", ' ') FROM (SELECT * FROM samples ORDER BY time_ns)"));
    int64_t time, value;
    while (rows >> time >> value) expected.push_back({time, value});
    EXPECT_EQ(counters[name], expected);
  }

  // Scopes: every enter/exit pair of the trace, per thread, as a B/E pair.
  using Interval = std::tuple<int64_t, std::string, int64_t, int64_t>;  // tid, path, begin, end
  std::vector<Interval> expected_scopes, exported_scopes;
  std::map<int64_t, std::vector<std::pair<uint64_t, int64_t>>> entered;  // per thread id
  std::vector<std::tuple<int64_t, int64_t, int64_t>> expected_steps;     // step, tid, time
  for (const Event& e : read_events(db)) {
    const int64_t tid =
        query_int(db, "SELECT tid FROM threads WHERE id = " + std::to_string(e.thread_id));
    const int64_t time = int64_t(e.record.time_ns) - start;
    if (e.record.kind == EventKind::kScopeEnter) {
      entered[e.thread_id].push_back({e.record.aux, time});
    } else if (e.record.kind == EventKind::kScopeExit) {
      ASSERT_FALSE(entered[e.thread_id].empty());
      const auto [scope, begin] = entered[e.thread_id].back();
      ASSERT_EQ(scope, e.record.aux);
      entered[e.thread_id].pop_back();
      const std::string path =
          query_text(db, "SELECT path FROM scope_paths WHERE id = " + std::to_string(scope));
      expected_scopes.push_back({tid, path, begin, time});
    } else if (e.record.kind == EventKind::kStep) {
      expected_steps.push_back({int64_t(e.record.aux), tid, time});
    }
  }
  std::map<int64_t, std::vector<std::pair<std::string, int64_t>>> open;
  std::vector<std::tuple<int64_t, int64_t, int64_t>> exported_steps;
  bool mark_seen = false;
  for (const auto& e : trace["traceEvents"]) {
    const int64_t tid = e["tid"];
    if (e["ph"] == "B") {
      open[tid].push_back({e["args"]["path"], ns_of(e["ts"])});
    } else if (e["ph"] == "E") {
      exported_scopes.push_back(
          {tid, open[tid].back().first, open[tid].back().second, ns_of(e["ts"])});
      open[tid].pop_back();
    } else if (e["ph"] == "i" && e["cat"] == "step") {
      EXPECT_EQ(e["name"], "step " + std::to_string(e["args"]["step"].get<int64_t>()));
      exported_steps.push_back({e["args"]["step"], tid, ns_of(e["ts"])});
    } else if (e["ph"] == "i" && e["cat"] == "mark") {
      mark_seen |= e["name"] == "batch ready";
    }
  }
  std::sort(expected_scopes.begin(), expected_scopes.end());
  std::sort(exported_scopes.begin(), exported_scopes.end());
  EXPECT_EQ(expected_scopes.size(), 3u * 4 + 2);  // per step model, layer1, forward, backward
  EXPECT_EQ(exported_scopes, expected_scopes);
  EXPECT_EQ(expected_steps.size(), 3u);
  EXPECT_EQ(exported_steps, expected_steps);
  EXPECT_TRUE(mark_seen);

  // Metadata names the process and every thread.
  std::set<int64_t> named_threads;
  bool process_named = false;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "M") continue;
    if (e["name"] == "process_name") process_named = e["args"]["name"] == "export_shapes";
    if (e["name"] == "thread_name") named_threads.insert(e["tid"].get<int64_t>());
  }
  EXPECT_TRUE(process_named);
  EXPECT_EQ(int64_t(named_threads.size()),
            query_int(db, "SELECT count(DISTINCT tid) FROM threads"));
  EXPECT_EQ(named_threads.count(pid), 1u);
}

TEST(Export, HostileNamesStillParse) {
  const std::string db = traced_shapes("hostile", true);
  const auto lines = export_folded(db, {"--with-scopes"});  // every line checked by the regex
  bool activation_seen = false;
  for (const FoldedLine& l : lines) {
    if (l.frames.back() != "alloc_activation()") continue;
    activation_seen = true;
    ASSERT_GE(l.frames.size(), 3u);
    EXPECT_EQ(l.frames[0], "model:with:semicolons");
    EXPECT_EQ(l.frames[1], "layer 1 \"quoted\" \\ back\\slash");
    EXPECT_EQ(l.frames[2], "<script>alert('forward')</script>");
    EXPECT_EQ(l.weight, 30000u);
  }
  EXPECT_TRUE(activation_seen);

  std::string text;
  const nlohmann::json trace = export_chrome_trace(db, &text);
  check_trace_events(trace);
  // Safe inside an HTML <script> element too.
  EXPECT_EQ(text.find("<script>"), std::string::npos);
  EXPECT_EQ(text.find("</script>"), std::string::npos);
  bool forward_seen = false, backward_seen = false, mark_seen = false;
  for (const auto& e : trace["traceEvents"]) {
    const std::string name = e["name"];
    if (e["ph"] == "B" && name == "<script>alert('forward')</script>") {
      forward_seen = true;
      EXPECT_EQ(e["args"]["path"],
                "model;with;semicolons/layer\n1 \"quoted\" \\ back\\slash/"
                "<script>alert('forward')</script>");
    }
    // Invalid UTF-8 comes out as U+FFFD, one per bad byte.
    if (e["ph"] == "B" && name == "back\xef\xbf\xbd\xef\xbf\xbdward\t&amp;") backward_seen = true;
    if (e["ph"] == "i" && name == "batch;\n\"ready\"</script>") mark_seen = true;
  }
  EXPECT_TRUE(forward_seen);
  EXPECT_TRUE(backward_seen);
  EXPECT_TRUE(mark_seen);
}

TEST(Export, UsageErrorsExitTwoWithAMessage) {
  const std::string dir = scratch_dir("export_usage");
  const std::string db = traced_shapes("usage");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"export"}, "no trace file given"},
      {{"export", db}, "nothing to write"},
      {{"export", db, "--folded"}, "--folded needs a value"},
      {{"export", db, "--folded", dir + "/f", "--by", "weight"},
       "--by 'weight': expected bytes, count, peak or leaked"},
      {{"export", db, "--chrome-trace", dir + "/t", "--by", "peak"}, "apply to --folded"},
      {{"export", db, "--chrome-trace", dir + "/t", "--with-scopes"}, "apply to --folded"},
      {{"export", db, "--folded", dir + "/f", "--fold"}, "unknown option '--fold'"},
      {{"export", db, db, "--folded", dir + "/f"}, "one trace file at a time"},
      {{"export", db, "--folded", "-", "--chrome-trace", "-"}, "only one output"},
      {{"export", dir + "/missing.db", "--folded", dir + "/f"}, "missing.db"},
      {{"export", db, "--folded", dir + "/no/such/dir/f"}, "cannot write"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(args.back());
    const RunResult r = memtide(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("memtide export: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/f"));
  EXPECT_EQ(memtide({"export", "--help"}).exit_code, 0);
}

}  // namespace
}  // namespace memtide::test
