// The CI side: memtide index, leaks, report and diff on traces of programs
// with known allocations, known leaks and known mistakes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "harness.h"

namespace memtide::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

RunResult memtide(std::vector<std::string> args) {
  args.insert(args.begin(), cli_path());
  return run_command(args);
}

uint64_t mark_seq(const std::vector<Event>& events, const std::string& db,
                  const std::string& name) {
  const int64_t id = query_int(db, "SELECT id FROM strings WHERE value = '" + name + "'");
  for (const Event& e : events)
    if (e.record.kind == EventKind::kMark && int64_t(e.record.aux) == id) return e.record.seq;
  return 0;
}

TEST(Index, OneRowPerBlockWithHowItEnded) {
  const std::string db = scratch_dir("index_exact") + "/run.db";
  ASSERT_EQ(run_traced(db, {program_path("alloc_exact")}).exit_code, 0);
  RunResult r = memtide({"index", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("indexed"), std::string::npos) << r.out;
  const std::vector<Event> events = read_events(db);
  const std::string between = " alloc_seq > " + std::to_string(mark_seq(events, db, "begin")) +
                              " AND alloc_seq < " + std::to_string(mark_seq(events, db, "end"));
  // kind, size, how the block ended: alloc_exact.c, call by call.
  const std::vector<std::tuple<int, int, int>> expected = {
      {1, 100, 32},    {2, 200, 32},  {1, 200, 36}, {1, 64, 32},   {36, 100, 35},
      {3, 100000, 32}, {3, 300, 35},  {4, 40, 32},  {5, 1000, 32}, {6, 1024, 32},
      {7, 300, 32},    {8, 5000, 32}, {9, 5000, 32}};
  ASSERT_EQ(query_int(db, "SELECT count(*) FROM allocations WHERE" + between),
            int64_t(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto [kind, size, free_kind] = expected[i];
    const std::string row = "SELECT %s FROM allocations WHERE" + between +
                            " ORDER BY id LIMIT 1 OFFSET " + std::to_string(i);
    auto column = [&](const char* c) {
      std::string sql = row;
      sql.replace(sql.find("%s"), 2, c);
      return query_int(db, sql);
    };
    SCOPED_TRACE("row " + std::to_string(i));
    EXPECT_EQ(column("kind"), kind);
    EXPECT_EQ(column("size"), size);
    EXPECT_EQ(column("free_kind"), free_kind);
    EXPECT_EQ(column("mismatch"), 0);
  }
  // Idempotent: a second run finds the index current.
  RunResult again = memtide({"index", db});
  EXPECT_NE(again.out.find("index up to date"), std::string::npos) << again.out;
}

#ifdef MEMTIDE_HAVE_SAMPLES

std::string sample_mlp() {
  return std::string(MEMTIDE_SAMPLES_DIR) + "/memtide-sample-mlp";
}

std::string traced_sample(const std::string& name, const std::vector<std::string>& extra) {
  const std::string db = scratch_dir("report_" + name) + "/run.db";
  std::vector<std::string> argv = {sample_mlp(), "--steps", "6"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  RunResult r = run_traced(db, argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return db;
}

bool any_frame_named(const nlohmann::json& frames, const std::string& name) {
  for (const auto& f : frames)
    if (f["function"].get<std::string>().find(name) != std::string::npos) return true;
  return false;
}

TEST(Report, WorkspaceLeakGrowsEveryStepAndFailsItsGates) {
  const std::string db = traced_sample("workspace", {"--leak=workspace"});
  const std::string dir = scratch_dir("report_workspace_out");
  RunResult r = memtide({"report", db, "--fail-on", "growth", "--json", dir + "/r.json", "--junit",
                         dir + "/r.xml", "--html", dir + "/r.html"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("gate growth failed"), std::string::npos) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(dir + "/r.json"));
  EXPECT_FALSE(j["gates_passed"].get<bool>());
  const auto& growth = j["processes"][0]["growth"];
  ASSERT_EQ(growth.size(), 1u) << growth.dump(2);
  // The planted workspace leak: 64 KiB in each of steps 1..5.
  EXPECT_EQ(growth[0]["bytes_per_step"].get<uint64_t>(), 64u * 1024);
  EXPECT_EQ(growth[0]["steps"].get<uint64_t>(), 5u);
  EXPECT_TRUE(any_frame_named(growth[0]["frames"], "plant_workspace_leak"));
  const std::string junit = read_file(dir + "/r.xml");
  EXPECT_NE(junit.find("<failure message="), std::string::npos);
  EXPECT_NE(junit.find("name=\"growth\""), std::string::npos);
  const std::string html = read_file(dir + "/r.html");
  EXPECT_NE(html.find("plant_workspace_leak"), std::string::npos);
}

// Each planted leak of the sample engine, in the category its source says,
// under the function that planted it.
TEST(Report, SampleLeaksComeOutInTheirCategoryUnderTheirFunction) {
  struct Planted {
    std::string kind, category, function;
    uint64_t min_bytes;
  };
  const std::vector<Planted> planted = {
      {"workspace", "definite", "plant_workspace_leak", 6u * 64 * 1024},
      {"activation-cache", "reachable", "plant_activation_cache_leak", 6u * 1024},
      {"loss-history", "reachable", "plant_loss_history_leak", 6u * 1024},
      {"shared-ptr-cycle", "indirect", "plant_shared_ptr_cycle_leak", 6u * 4096},
  };
  for (const Planted& p : planted) {
    SCOPED_TRACE(p.kind);
    const std::string db = traced_sample("planted_" + p.kind, {"--leak=" + p.kind});
    const std::string json = scratch_dir("planted_out_" + p.kind) + "/r.json";
    ASSERT_EQ(memtide({"report", db, "--json", json}).exit_code, 0);
    const nlohmann::json j = nlohmann::json::parse(read_file(json));
    ASSERT_TRUE(j["processes"][0]["leak_scan"].get<bool>());
    uint64_t bytes = 0;
    for (const auto& g : j["processes"][0]["leaks"])
      if (g["category"] == p.category && any_frame_named(g["frames"], p.function))
        bytes += g["bytes"].get<uint64_t>();
    EXPECT_GE(bytes, p.min_bytes);
    // Nothing is definitely lost but what was planted to be.
    for (const auto& g : j["processes"][0]["leaks"]) {
      if (g["category"] == "definite") {
        EXPECT_TRUE(any_frame_named(g["frames"], "plant_")) << g.dump(2);
      }
    }
  }
}

TEST(Report, MismatchedFreesAreErrorsOfTheirOwn) {
  const std::string db = traced_sample("mismatch", {"--leak=new-free-mismatch"});
  const std::string json = scratch_dir("report_mismatch_out") + "/r.json";
  RunResult r = memtide({"report", db, "--fail-on", "mismatch", "--json", json});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(json));
  const auto& errors = j["processes"][0]["errors"];
  ASSERT_EQ(errors.size(), 1u) << errors.dump(2);
  EXPECT_EQ(errors[0]["kind"], "mismatch");
  EXPECT_EQ(errors[0]["detail"], "new[] freed by free");
  EXPECT_EQ(errors[0]["count"].get<uint64_t>(), 6u);  // one per step
  EXPECT_TRUE(any_frame_named(errors[0]["frames"], "plant_new_free_mismatch"));
}

TEST(Report, SuppressionsTurnAKnownLeakIntoACount) {
  const std::string db = traced_sample("suppressed", {"--leak=workspace"});
  const std::string dir = scratch_dir("report_suppressed_out");
  write_file(dir + "/rules.supp",
             "# the planted leak is known\n"
             "growth:function:*plant_workspace_leak*\n"
             "*:function:*plant_workspace_leak*\n");
  RunResult r = memtide({"report", db, "--fail-on", "growth", "--suppressions", dir + "/rules.supp",
                         "--json", dir + "/r.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(dir + "/r.json"));
  EXPECT_TRUE(j["processes"][0]["growth"].empty());
  EXPECT_GE(j["processes"][0]["suppressed_bytes"].get<uint64_t>(), 6u * 64 * 1024);
  write_file(dir + "/bad.supp", "definite:symbol:foo\n");
  RunResult bad = memtide({"report", db, "--suppressions", dir + "/bad.supp"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.supp:1: unknown field 'symbol'"), std::string::npos) << bad.err;
}

TEST(Report, CleanRunPassesAndPeakGateCompares) {
  const std::string db = traced_sample("clean", {});
  RunResult pass =
      memtide({"report", db, "--fail-on", "definite,mismatch,growth", "--max-peak", "1G"});
  EXPECT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  RunResult fail = memtide({"report", db, "--max-peak", "4K"});
  EXPECT_EQ(fail.exit_code, 1);
  EXPECT_NE(fail.err.find("gate max-peak failed"), std::string::npos) << fail.err;
}

TEST(Diff, LeakyRunAgainstCleanRunFailsTheLeakGate) {
  const std::string base = traced_sample("diff_base", {});
  const std::string candidate = traced_sample("diff_new", {"--leak=workspace"});
  const std::string json = scratch_dir("diff_out") + "/d.json";
  RunResult r = memtide({"diff", base, candidate, "--max-leak-increase", "0", "--max-peak-increase",
                         "50%", "--json", json});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("gate max-leak-increase failed"), std::string::npos) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(json));
  EXPECT_GE(j["new"]["leaked_bytes"].get<uint64_t>() - j["base"]["leaked_bytes"].get<uint64_t>(),
            6u * 64 * 1024);
  ASSERT_FALSE(j["grown"].empty());
  EXPECT_NE(j["grown"][0]["site"].get<std::string>().find("plant_workspace_leak"),
            std::string::npos);
  RunResult same = memtide({"diff", base, base, "--max-leak-increase", "0"});
  EXPECT_EQ(same.exit_code, 0) << same.err;
}

#endif  // MEMTIDE_HAVE_SAMPLES

// The HTML report's analysis sections on a run with a known schedule
// (tests/programs/scope_schedule.cpp): its scopes, the step of its peak, its
// temporary and the Gantt of that step.
TEST(Report, HtmlShowsLayersPeakTemporariesAndTheStepsLifetimes) {
  const std::string dir = scratch_dir("report_analyses");
  const std::string db = dir + "/run.db";
  ASSERT_EQ(run_traced(db, {program_path("scope_schedule")}).exit_code, 0);
  RunResult r = memtide({"report", db, "--html", dir + "/r.html"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = read_file(dir + "/r.html");
  for (const char* expected :
       {"<h3>Layers</h3>", "model.layers.0/forward/matmul", "model.layers.0/backward",
        "optimizer/step", "<h3>Lifetimes in step 1</h3>", "<h3>The peak</h3>",
        "in step 1, while model.layers.0/forward ran", "<h3>Temporaries</h3>", "make_temporary",
        "class=\"chart gantt\"", "class=\"chart icicle\"", "allocate_big"})
    EXPECT_NE(html.find(expected), std::string::npos) << expected;
}

TEST(Report, BadInputAndUsageErrorsExitTwoWithAClearMessage) {
  const std::string dir = scratch_dir("report_bad");
  write_file(dir + "/empty.db", "");
  write_file(dir + "/text.db", "this is not a database\n");
  // A trace of another schema version: a real trace with its version changed.
  const std::string other = dir + "/other.db";
  ASSERT_EQ(run_traced(other, {program_path("alloc_exact")}).exit_code, 0);
  ASSERT_EQ(run_command({"/usr/bin/env", "sqlite3", other,
                         "UPDATE meta SET value = 99 WHERE key = 'schema_version'"})
                .exit_code,
            0);
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"report", dir + "/empty.db"}, "empty"},
      {{"report", dir + "/text.db"}, "not an SQLite database"},
      {{"report", dir + "/missing.db"}, "no such file or directory"},
      {{"report", other}, "trace schema version 99"},
      {{"report"}, "no trace file given"},
      {{"report", dir + "/text.db", "--fail-on", "everything"}, "unknown category 'everything'"},
      {{"report", dir + "/text.db", "--max-peak", "lots"}, "expected bytes"},
      {{"leaks", "--frobnicate", dir}, "unknown option"},
      {{"diff", dir + "/empty.db"}, "expected two traces"},
      {{"diff", "a.db", "b.db", "--max-peak-increase", "much"}, "expected a percentage"},
      {{"index", dir + "/text.db"}, "not an SQLite database"},
  };
  for (const Case& c : cases) {
    RunResult r = memtide(c.args);
    SCOPED_TRACE(c.args[0] + " " + (c.args.size() > 1 ? c.args[1] : ""));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

TEST(Report, TraceCutShortBySigkillIsReportedAsNotFreed) {
  const std::string dir = scratch_dir("report_sigkill");
  const std::string db = dir + "/run.db";
  RunOptions options;
  options.wait_for_line = "ready";
  options.send_signal = SIGKILL;
  run_traced(db, {program_path("signals"), "kill"}, options);
  const std::string json = dir + "/r.json";
  RunResult r = memtide({"report", db, "--json", json});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(j["processes"][0]["end_reason"], "killed (no final flush)");
  EXPECT_FALSE(j["processes"][0]["leak_scan"].get<bool>());
}

}  // namespace
}  // namespace memtide::test
