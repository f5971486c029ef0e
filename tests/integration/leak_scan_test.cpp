// The exit leak scan: programs with known leaks, checked against the
// leak_scan table (1 definitely lost, 2 indirectly lost, 3 possibly lost,
// 4 still reachable) and the scan's meta keys.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "harness.h"

namespace memtide::test {
namespace {

constexpr int kDefinite = 1, kIndirect = 2, kPossible = 3, kReachable = 4;

std::string meta(const std::string& db, const std::string& key) {
  return query_text(db, "SELECT value FROM meta WHERE key = '" + key + "'");
}

// How many blocks of `size` bytes the scan put in `category`.
int64_t blocks(const std::string& db, int category, int64_t size) {
  return query_int(db, "SELECT count(*) FROM leak_scan WHERE category = " +
                           std::to_string(category) + " AND size = " + std::to_string(size));
}

std::string run_leaks(const std::string& mode, const std::vector<std::string>& extra = {}) {
  const std::string db = scratch_dir("leak_" + mode) + "/run.db";
  std::vector<std::string> argv = {program_path("leaks"), mode};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const RunResult run = run_traced(db, argv);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(meta(db, "leak_scan"), "done");
  return db;
}

TEST(LeakScan, DroppedPointerIsDefinitelyLostWithItsExactSize) {
  const std::string db = run_leaks("dropped");
  EXPECT_EQ(blocks(db, kDefinite, 4001), 1);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE size = 4001"), 1);
  EXPECT_NE(meta(db, "leak_scan_ms"), "");
}

TEST(LeakScan, LostTreeHasADefiniteRootAndIndirectChildren) {
  const std::string db = run_leaks("tree");  // node is 56 bytes plus 1 to 4
  EXPECT_EQ(blocks(db, kDefinite, 57), 1);
  EXPECT_EQ(blocks(db, kIndirect, 58), 1);
  EXPECT_EQ(blocks(db, kIndirect, 59), 1);
  EXPECT_EQ(blocks(db, kIndirect, 60), 1);
}

// Valgrind's rule: in a cycle that nothing outside points into, the block
// met first (lowest address) leads the clique and is definitely lost; the
// others are indirectly lost through it.
TEST(LeakScan, LostCycleHasOneDefiniteBlockAtItsLowestAddress) {
  const std::string db = run_leaks("cycle");
  const std::string cycle = "size IN (61, 62, 63)";
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE " + cycle), 3);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE category = 1 AND " + cycle), 1);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE category = 2 AND " + cycle), 2);
  EXPECT_EQ(query_int(db, "SELECT category FROM leak_scan WHERE " + cycle + " ORDER BY address"),
            kDefinite);
}

TEST(LeakScan, BlockHeldByAGlobalIsStillReachable) {
  const std::string db = run_leaks("global");
  EXPECT_EQ(blocks(db, kReachable, 5003), 1);
}

// Only pages something was written to are read: the 4 MiB data array the
// program leaves untouched (but one page) is not scanned, and the pointer in
// that one page still keeps its block reachable.
TEST(LeakScan, UntouchedDataPagesAreNotReadButTouchedOnesAre) {
  const std::string db = run_leaks("sparse-data");
  EXPECT_EQ(blocks(db, kReachable, 5005), 1);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE size = 5005"), 1);
  const int64_t root_bytes = std::stoll(meta(db, "leak_scan_root_bytes"));
  EXPECT_GT(root_bytes, 0);
  EXPECT_LT(root_bytes, int64_t(4) << 20);
}

TEST(LeakScan, OnlyAnInteriorPointerLeftIsPossiblyLost) {
  const std::string db = run_leaks("interior");
  EXPECT_EQ(blocks(db, kPossible, 6007), 1);
}

TEST(LeakScan, LeakInAThreadThatExited) {
  const std::string db = run_leaks("thread");
  EXPECT_EQ(blocks(db, kDefinite, 7001), 1);
  // glibc keeps the exited thread's stack and its thread vector for reuse.
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE category != 4 AND size != 7001"),
            0);
}

TEST(LeakScan, LeakInADlopenedLibrary) {
  const std::string db = run_leaks("dlopen", {program_path("libtest_leak_lib.so")});
  EXPECT_EQ(blocks(db, kDefinite, 8011), 1);
  EXPECT_EQ(blocks(db, kReachable, 8009), 1);  // held by the library's own global
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE category != 4 AND size != 8011"),
            0);
}

TEST(LeakScan, LeakThroughReallocHasTheNewSize) {
  const std::string db = run_leaks("realloc");
  EXPECT_EQ(blocks(db, kDefinite, 9013), 1);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE size = 16"), 0);
}

TEST(LeakScan, ThousandLeaksAmongAMillionAllocations) {
  const std::string db = run_leaks("million");
  // Sizes 1000 + (i / 1000) % 7 for i = 0, 1000, ..., 999000.
  int64_t bytes = 0;
  for (int i = 0; i < 1000000; i += 1000) bytes += 1000 + (i / 1000) % 7;
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE category = 1"), 1000);
  EXPECT_EQ(query_int(db, "SELECT sum(size) FROM leak_scan WHERE category = 1"), bytes);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE category IN (2, 3)"), 0);
}

TEST(LeakScan, ExitFromAThreadWhileOthersRun) {
  const std::string db = scratch_dir("leak_exit_thread") + "/run.db";
  const RunResult run = run_traced(db, {program_path("leaks"), "exit-from-thread"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(meta(db, "leak_scan"), "done");
  EXPECT_EQ(blocks(db, kDefinite, 10007), 1);
  // Each running worker holds one block in a local: its stack is a root.
  EXPECT_EQ(blocks(db, kReachable, 10009), 2);
  EXPECT_EQ(meta(db, "leak_scan_threads_stopped"), "3");  // main and the two workers
  EXPECT_EQ(meta(db, "leak_scan_threads_unresponsive"), "0");
}

TEST(LeakScan, ThreadWithEverySignalBlockedDoesNotHangTheExit) {
  const std::string db = scratch_dir("leak_masked") + "/run.db";
  RunOptions options;
  options.timeout_ms = 20000;
  const RunResult run = run_traced(db, {program_path("leaks"), "masked"}, options);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(meta(db, "leak_scan"), "done");
  EXPECT_EQ(meta(db, "leak_scan_threads_unresponsive"), "1");
  EXPECT_EQ(blocks(db, kDefinite, 12007), 1);
  // Its stack is scanned whole: the block it holds in a local is reachable.
  EXPECT_EQ(blocks(db, kReachable, 12011), 1);
}

TEST(LeakScan, SigtermScansBeforeTheProcessDies) {
  const std::string db = scratch_dir("leak_sigterm") + "/run.db";
  RunOptions options;
  options.wait_for_line = "ready";
  options.send_signal = SIGTERM;
  const RunResult run = run_traced(db, {program_path("leaks"), "wait"}, options);
  EXPECT_EQ(run.signal, SIGTERM);
  EXPECT_EQ(meta(db, "end_reason"), "signal SIGTERM");
  EXPECT_EQ(meta(db, "leak_scan"), "done");
  EXPECT_EQ(blocks(db, kDefinite, 11003), 1);
  EXPECT_EQ(blocks(db, kReachable, 5003), 1);
}

TEST(LeakScan, SigkillLeavesNoScan) {
  const std::string db = scratch_dir("leak_sigkill") + "/run.db";
  RunOptions options;
  options.wait_for_line = "ready";
  options.send_signal = SIGKILL;
  options.signal_delay_ms = 300;
  const RunResult run = run_traced(db, {program_path("leaks"), "wait"}, options);
  EXPECT_EQ(run.signal, SIGKILL);
  EXPECT_EQ(meta(db, "leak_scan"), "");
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan"), 0);
}

TEST(LeakScan, LeakFreeProgramHasNothingLost) {
  const std::string db = scratch_dir("leak_free") + "/run.db";
  const RunResult run = run_traced(db, {program_path("leak_free")});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(meta(db, "leak_scan"), "done");
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan WHERE category != 4"), 0);
  // glibc and libstdc++ keep blocks for themselves (stdout's buffer, the
  // exception pool, dlerror's message): still reachable.
  EXPECT_GT(query_int(db, "SELECT count(*) FROM leak_scan WHERE category = 4"), 0);
}

TEST(LeakScan, OptionOffSkipsTheScan) {
  const std::string db = scratch_dir("leak_off") + "/run.db";
  RunOptions options;
  options.env["MEMTIDE_LEAK_SCAN"] = "0";
  const RunResult run = run_traced(db, {program_path("leaks"), "dropped"}, options);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(meta(db, "leak_scan"), "skipped: MEMTIDE_LEAK_SCAN=0");
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM leak_scan"), 0);
}

}  // namespace
}  // namespace memtide::test
