// The memtide CLI: run passes the program through; info reads traces and
// refuses bad input clearly.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>

#include "harness.h"

namespace memtide::test {
namespace {

TEST(Cli, RunPassesExitCodeAndRecordsIt) {
  std::string dir = scratch_dir("cli_run");
  RunResult run = run_command(
      {cli_path(), "run", "-o", dir + "/out.db", "--", program_path("output_unchanged"), "y"});
  EXPECT_EQ(run.exit_code, 42);
  EXPECT_EQ(run.out, "hello 2 y\n");
  EXPECT_NE(run.err.find("trace written to " + dir + "/out.db"), std::string::npos) << run.err;
  EXPECT_EQ(query_int(dir + "/out.db", "SELECT exit_status FROM processes"), 42);
}

TEST(Cli, RunForwardsSigtermAndReportsTheSignal) {
  std::string dir = scratch_dir("cli_sigterm");
  RunOptions options;
  options.wait_for_line = "ready";
  options.send_signal = SIGTERM;
  RunResult run = run_command(
      {cli_path(), "run", "-o", dir + "/t.db", "--", program_path("signals"), "term-default"},
      options);
  EXPECT_EQ(run.exit_code, 128 + SIGTERM);
  EXPECT_NE(run.err.find("was killed by signal 15"), std::string::npos) << run.err;
  EXPECT_EQ(query_text(dir + "/t.db", "SELECT end_reason FROM processes"), "signal SIGTERM");
}

TEST(Cli, RunReplacesTheChildTracesOfAnEarlierRun) {
  std::string dir = scratch_dir("cli_rerun");
  std::ofstream(dir + "/t.4242.db") << "stale";  // as if left by an earlier run
  std::ofstream(dir + "/other.4242.db") << "keep";
  RunResult run =
      run_command({cli_path(), "run", "-o", dir + "/t.db", "--", program_path("fork_exec")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/t.4242.db"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/other.4242.db"));
  EXPECT_NE(run.err.find("(+1 child process traces beside it)"), std::string::npos) << run.err;
}

TEST(Cli, RunReportsAProgramThatCannotStart) {
  RunResult run = run_command({cli_path(), "run", "-o", scratch_dir("cli_missing") + "/t.db", "--",
                               "/nonexistent/program"});
  EXPECT_EQ(run.exit_code, 127);
  EXPECT_NE(run.err.find("cannot run /nonexistent/program: No such file or directory"),
            std::string::npos)
      << run.err;
}

TEST(Cli, RunRejectsBadOptionsWithStatus2) {
  RunResult run = run_command({cli_path(), "run", "--stack-depth", "lots", "--", "/bin/true"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("MEMTIDE_STACK_DEPTH='lots': expected a whole number"), std::string::npos);
  run = run_command({cli_path(), "run", "--bogus", "--", "/bin/true"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("unknown option '--bogus'"), std::string::npos);
  run = run_command({cli_path(), "run"});
  EXPECT_EQ(run.exit_code, 2);
}

TEST(Cli, RunHelpListsEveryAgentOption) {
  RunResult run = run_command({cli_path(), "run", "--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* name : {"MEMTIDE_OUTPUT", "MEMTIDE_STACK_DEPTH", "MEMTIDE_SAMPLE_MS",
                           "MEMTIDE_COMMIT_MS", "MEMTIDE_FOLLOW", "MEMTIDE_FREE_STACKS"})
    EXPECT_NE(run.out.find(name), std::string::npos) << name;
}

TEST(Cli, InfoSummarisesAKnownRun) {
  std::string dir = scratch_dir("cli_info");
  ASSERT_EQ(run_command({cli_path(), "run", "-o", dir + "/t.db", "--quiet", "--",
                         program_path("alloc_exact")})
                .exit_code,
            0);
  RunResult info = run_command({cli_path(), "info", "--json", dir + "/t.db"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("\"ended_cleanly\": true"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("\"pvalloc\": {\n      \"bytes\": 5000,\n      \"events\": 1"),
            std::string::npos)
      << info.out;
  RunResult text = run_command({cli_path(), "info", dir + "/t.db"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("ended:          cleanly, by exit"), std::string::npos) << text.out;
}

TEST(Cli, InfoNamesWhatIsWrongWithBadFiles) {
  std::string dir = scratch_dir("cli_bad");
  std::ofstream(dir + "/notes.db") << "just some text, not a database at all";
  RunResult run = run_command({cli_path(), "info", dir + "/notes.db"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err,
            "memtide info: " + dir + "/notes.db: not an SQLite database, so not a memtide trace\n");
  run = run_command({cli_path(), "info", dir + "/missing.db"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "memtide info: " + dir + "/missing.db: no such file\n");
  run = run_command({cli_path(), "info", "--frobnicate"});
  EXPECT_EQ(run.exit_code, 2);
}

}  // namespace
}  // namespace memtide::test
