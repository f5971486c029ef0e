// Signals and every way out of a process: the trace keeps what was recorded
// and says how the process ended; the program behaves as without memtide.
#include <gtest/gtest.h>
#include <signal.h>

#include "harness.h"

namespace memtide::test {
namespace {

int count_mallocs(const std::string& db, uint64_t size) {
  int n = 0;
  for (const Event& e : read_events(db))
    if (e.record.kind == EventKind::kMalloc && e.record.size == size) ++n;
  return n;
}

std::string meta(const std::string& db, const std::string& key) {
  return query_text(db, "SELECT value FROM meta WHERE key = '" + key + "'");
}

TEST(ExitPaths, AllocationInASignalHandlerIsRecorded) {
  std::string db = scratch_dir("sig_usr1") + "/run.db";
  ASSERT_EQ(run_traced(db, {program_path("signals"), "usr1"}).exit_code, 0);
  int found = 0;
  for (const Event& e : read_events(db)) {
    if (e.record.kind != EventKind::kMalloc || e.record.size != 4242) continue;
    ++found;
    EXPECT_EQ(innermost_function(db, e.record.stack), "on_usr1");
  }
  EXPECT_EQ(found, 1);
}

TEST(ExitPaths, SigtermFlushesThenDiesByDefault) {
  std::string db = scratch_dir("sig_term") + "/run.db";
  RunOptions options;
  options.wait_for_line = "ready";
  options.send_signal = SIGTERM;
  RunResult run = run_traced(db, {program_path("signals"), "term-default"}, options);
  EXPECT_EQ(run.signal, SIGTERM);
  EXPECT_EQ(count_mallocs(db, 5151), 10);
  EXPECT_EQ(meta(db, "end_reason"), "signal SIGTERM");
  EXPECT_EQ(meta(db, "ended_cleanly"), "0");
}

TEST(ExitPaths, ProgramsOwnSigtermHandlerStillRuns) {
  std::string db = scratch_dir("sig_term_handler") + "/run.db";
  RunOptions options;
  options.wait_for_line = "ready";
  options.send_signal = SIGTERM;
  RunResult run = run_traced(db, {program_path("signals"), "term-handler"}, options);
  EXPECT_EQ(run.exit_code, 7);
  EXPECT_EQ(run.out, "ready\ngot term\n");
  EXPECT_EQ(count_mallocs(db, 5252), 10);
  EXPECT_EQ(meta(db, "end_reason"), "exit");
  EXPECT_EQ(query_int(db, "SELECT exit_status FROM processes"), 7);
}

TEST(ExitPaths, SigkillLeavesAValidTraceUpToTheLastCommit) {
  std::string db = scratch_dir("sig_kill") + "/run.db";
  RunOptions options;
  options.wait_for_line = "ready";
  options.send_signal = SIGKILL;
  options.signal_delay_ms = 500;  // several commit intervals
  RunResult run = run_traced(db, {program_path("signals"), "kill"}, options);
  EXPECT_EQ(run.signal, SIGKILL);
  EXPECT_EQ(count_mallocs(db, 6161), 1000);
  EXPECT_EQ(meta(db, "ended_cleanly"), "0");
  EXPECT_EQ(meta(db, "end_reason"), "");
  EXPECT_EQ(query_text(db, "PRAGMA integrity_check"), "ok");
}

TEST(ExitPaths, AbortIsRecordedAsSigabrt) {
  std::string db = scratch_dir("abort") + "/run.db";
  RunResult run = run_traced(db, {program_path("signals"), "abort"});
  EXPECT_EQ(run.signal, SIGABRT);
  EXPECT_EQ(count_mallocs(db, 7171), 3);
  EXPECT_EQ(meta(db, "end_reason"), "signal SIGABRT");
}

TEST(ExitPaths, UnderscoreExitFlushesEverything) {
  std::string db = scratch_dir("underscore_exit") + "/run.db";
  RunResult run = run_traced(db, {program_path("signals"), "_exit"});
  EXPECT_EQ(run.exit_code, 5);
  EXPECT_EQ(count_mallocs(db, 8181), 3);
  EXPECT_EQ(meta(db, "end_reason"), "_exit");
  EXPECT_EQ(meta(db, "ended_cleanly"), "1");
  EXPECT_EQ(query_int(db, "SELECT exit_status FROM processes"), 5);
}

TEST(ExitPaths, ExitFromAnotherThread) {
  std::string db = scratch_dir("thread_exit") + "/run.db";
  RunResult run = run_traced(db, {program_path("signals"), "thread-exit"});
  EXPECT_EQ(run.exit_code, 9);
  EXPECT_EQ(count_mallocs(db, 9191), 1);
  EXPECT_EQ(meta(db, "end_reason"), "exit");
  EXPECT_EQ(query_int(db, "SELECT exit_status FROM processes"), 9);
}

TEST(ExitPaths, OutputAndExitCodeUnchanged) {
  RunOptions bare;
  bare.preload = false;
  RunResult without = run_traced("", {program_path("output_unchanged"), "x"}, bare);
  std::string db = scratch_dir("unchanged") + "/run.db";
  RunResult with = run_traced(db, {program_path("output_unchanged"), "x"});
  EXPECT_EQ(without.exit_code, 42);
  EXPECT_EQ(with.exit_code, 42);
  EXPECT_EQ(with.out, without.out);
  EXPECT_EQ(with.out, "hello 2 x\n");
  EXPECT_EQ(with.err, without.err);
}

}  // namespace
}  // namespace memtide::test
