// Threads, fork, exec and dlopen under the agent.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "harness.h"

namespace memtide::test {
namespace {

TEST(Threads, EightThreadsLoseAndDuplicateNothing) {
  std::string db = scratch_dir("threads") + "/run.db";
  RunResult run = run_traced(db, {program_path("threads")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<Event> events = read_events(db);
  const int64_t worker_scope = query_int(
      db, "SELECT s.id FROM scopes s JOIN strings n ON n.id = s.name_id WHERE n.value = 'worker'");
  ASSERT_GT(worker_scope, 0);
  std::map<uint64_t, int> mallocs_by_size, kept_by_size;
  std::map<uint64_t, std::set<int64_t>> threads_by_size;
  std::map<int64_t, int> frees_by_thread;
  std::set<uint64_t> seqs;
  for (const Event& e : events) {
    EXPECT_TRUE(seqs.insert(e.record.seq).second) << "duplicate seq " << e.record.seq;
    if (int64_t(e.record.scope) != worker_scope) continue;
    if (e.record.kind == EventKind::kMalloc && e.record.size >= 1000 && e.record.size < 1008) {
      ++mallocs_by_size[e.record.size];
      threads_by_size[e.record.size].insert(e.thread_id);
    }
    if (e.record.kind == EventKind::kMalloc && e.record.size >= 3000 && e.record.size < 3008)
      ++kept_by_size[e.record.size];
    if (e.record.kind == EventKind::kFree) ++frees_by_thread[e.thread_id];
  }
  ASSERT_EQ(mallocs_by_size.size(), 8u);
  for (auto& [size, count] : mallocs_by_size) {
    EXPECT_EQ(count, 20000) << "size " << size;
    EXPECT_EQ(threads_by_size[size].size(), 1u) << "one thread per size";
    EXPECT_EQ(kept_by_size[size + 2000], 5);
  }
  ASSERT_EQ(frees_by_thread.size(), 8u);
  for (auto& [thread, count] : frees_by_thread) EXPECT_EQ(count, 20000);
  // Threads are recorded with their names and an end time.
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM threads WHERE name LIKE 'worker-%' AND "
                      "end_time_ns IS NOT NULL AND end_time_ns >= start_time_ns"),
            8);
  // A thread alive at the end keeps no end time and shows its latest name.
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM threads WHERE name = 'sleeper-late' AND "
                      "end_time_ns IS NULL"),
            1);
  EXPECT_EQ(query_int(db, "SELECT value FROM counters WHERE name = 'dropped_events'"), 0);
  // Eight threads share the writer's four pending pages: pages stay within
  // the limit and each thread's pages follow each other without overlap.
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM pages WHERE event_count > 32768"), 0);
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM pages a JOIN pages b ON a.thread_id = b.thread_id AND "
                      "b.id > a.id WHERE b.first_seq <= a.last_seq"),
            0);
  EXPECT_EQ(query_int(db, "SELECT sum(event_count) FROM pages"),
            query_int(db, "SELECT value FROM counters WHERE name = 'events'"));
}

// The writer drains a ring in batches of 8192 events and gathers one
// thread's batches into pages of up to 32768: a million allocations and
// frees on one thread fill pages to the limit between commits.
TEST(Threads, OneThreadsBatchesGatherIntoLargePages) {
  std::string db = scratch_dir("large_pages") + "/run.db";
  RunResult run = run_traced(db, {program_path("leaks"), "million"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(query_int(db, "SELECT max(event_count) FROM pages"), 32768);
  EXPECT_GE(query_int(db, "SELECT count(*) FROM pages WHERE event_count = 32768"), 30);
  EXPECT_EQ(query_int(db, "SELECT sum(event_count) FROM pages"),
            query_int(db, "SELECT value FROM counters WHERE name = 'events'"));
  // A million allocations, all but 1000 of them freed.
  EXPECT_GE(query_int(db, "SELECT value FROM counters WHERE name = 'events'"), 1999000);
  EXPECT_EQ(query_int(db, "SELECT value FROM counters WHERE name = 'dropped_events'"), 0);
}

TEST(Processes, ForkedChildWritesItsOwnLinkedTrace) {
  std::string dir = scratch_dir("fork");
  std::string db = dir + "/run.db";
  RunResult run = run_traced(db, {program_path("fork_exec")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string child_pid = run.out.substr(0, run.out.find('\n'));
  const std::string child_db = dir + "/run." + child_pid + ".db";
  ASSERT_TRUE(std::filesystem::exists(child_db)) << child_db;
  auto sizes = [](const std::string& path) {
    std::multiset<uint64_t> out;
    for (const Event& e : read_events(path))
      if (e.record.kind == EventKind::kMalloc) out.insert(e.record.size);
    return out;
  };
  std::multiset<uint64_t> parent = sizes(db), child = sizes(child_db);
  // Each side's stack is its own and whole: the two differ in their
  // innermost function only, main and the frames above it are the same.
  auto functions_of = [](const std::string& path, uint64_t size) {
    for (const Event& e : read_events(path))
      if (e.record.kind == EventKind::kMalloc && e.record.size == size)
        return stack_functions(path, e.record.stack);
    return std::vector<std::string>{};
  };
  const std::vector<std::string> before = functions_of(db, 111);
  const std::vector<std::string> in_child = functions_of(child_db, 222);
  ASSERT_GE(before.size(), 2u);
  ASSERT_GE(in_child.size(), 2u);
  EXPECT_EQ(before[0], "allocate_before_fork");
  EXPECT_EQ(in_child[0], "allocate_in_child");
  EXPECT_EQ(before[1], "main");
  EXPECT_EQ(std::vector<std::string>(in_child.begin() + 1, in_child.end()),
            std::vector<std::string>(before.begin() + 1, before.end()));
  EXPECT_EQ(parent.count(111), 1u);
  EXPECT_EQ(parent.count(333), 1u);
  EXPECT_EQ(parent.count(222), 0u);
  EXPECT_EQ(child.count(222), 1u);
  EXPECT_EQ(child.count(111), 0u);
  EXPECT_EQ(query_text(child_db, "SELECT origin FROM processes"), "fork");
  EXPECT_EQ(query_text(child_db, "SELECT parent_trace FROM processes"), db);
  EXPECT_EQ(query_int(child_db, "SELECT parent_pid FROM processes"),
            query_int(db, "SELECT pid FROM processes"));
  EXPECT_EQ(query_text(child_db, "SELECT value FROM meta WHERE key = 'ended_cleanly'"), "1");
}

TEST(Processes, ExecedProgramIsTracedUnlessFollowIsOff) {
  std::string dir = scratch_dir("exec");
  std::string db = dir + "/run.db";
  RunResult run = run_traced(db, {program_path("fork_exec"), "exec"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string child_pid = run.out.substr(0, run.out.find('\n'));
  // The forked child's trace ends in exec; the new image writes a second one.
  const std::string fork_db = dir + "/run." + child_pid + ".db";
  const std::string exec_db = dir + "/run." + child_pid + ".2.db";
  ASSERT_TRUE(std::filesystem::exists(fork_db));
  ASSERT_TRUE(std::filesystem::exists(exec_db));
  EXPECT_EQ(query_text(fork_db, "SELECT end_reason FROM processes"), "exec");
  EXPECT_EQ(query_text(exec_db, "SELECT origin FROM processes"), "exec");
  EXPECT_EQ(query_text(exec_db, "SELECT parent_trace FROM processes"), fork_db);
  int mallocs_444 = 0;
  for (const Event& e : read_events(exec_db))
    if (e.record.kind == EventKind::kMalloc && e.record.size == 444) ++mallocs_444;
  EXPECT_EQ(mallocs_444, 1);

  std::string quiet_dir = scratch_dir("exec_nofollow");
  RunOptions options;
  options.env["MEMTIDE_FOLLOW"] = "0";
  run = run_traced(quiet_dir + "/run.db", {program_path("fork_exec"), "exec"}, options);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string pid = run.out.substr(0, run.out.find('\n'));
  EXPECT_TRUE(std::filesystem::exists(quiet_dir + "/run." + pid + ".db"));     // the fork
  EXPECT_FALSE(std::filesystem::exists(quiet_dir + "/run." + pid + ".2.db"));  // no exec trace
}

TEST(Processes, ForkWhileAnotherThreadAllocatesNeverDeadlocks) {
  std::string dir = scratch_dir("fork_stress");
  RunOptions options;
  options.timeout_ms = 120000;
  RunResult run = run_traced(dir + "/run.db", {program_path("fork_stress")}, options);
  ASSERT_EQ(run.signal, 0) << "killed (deadlock?)";
  ASSERT_EQ(run.exit_code, 0) << run.err;
  int children = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name == "run.db" || !name.ends_with(".db")) continue;
    ++children;
    int found = 0;
    for (const Event& e : read_events(entry.path().string()))
      if (e.record.kind == EventKind::kMalloc && e.record.size == 555) ++found;
    EXPECT_EQ(found, 1) << name;
  }
  EXPECT_EQ(children, 30);
}

TEST(Modules, DlopenByNameStillSearchesTheCallersRunpath) {
  const std::string db = scratch_dir("runpath") + "/run.db";
  RunResult r = run_traced(db, {program_path("runpath_main")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("answer 42"), std::string::npos) << r.out;
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM modules WHERE path LIKE "
                      "'%/runpath/libtest_runpath_target.so'"),
            1);
}

TEST(Modules, DlopenedLibraryIsMappedAndItsAllocationResolves) {
  std::string db = scratch_dir("dlopen") + "/run.db";
  const std::string lib = program_path("libtest_dlalloc.so");
  RunResult run = run_traced(db, {program_path("dlopen_main"), lib});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string where = " FROM modules WHERE path = '" + lib + "'";
  const int64_t load_seq = query_int(db, "SELECT load_seq" + where);
  const int64_t unload_seq = query_int(db, "SELECT unload_seq" + where);
  const int64_t base = query_int(db, "SELECT base" + where);
  const int64_t size = query_int(db, "SELECT size" + where);
  ASSERT_GT(load_seq, 0);
  ASSERT_GT(unload_seq, load_seq);
  EXPECT_EQ(query_text(db, "SELECT length(build_id) > 0" + where), "1");
  int found = 0;
  for (const Event& e : read_events(db)) {
    if (e.record.kind != EventKind::kMalloc || e.record.size != 4321) continue;
    ++found;
    EXPECT_GT(int64_t(e.record.seq), load_seq);
    EXPECT_LT(int64_t(e.record.seq), unload_seq);
    const int64_t ip =
        query_int(db, "SELECT ip FROM stack_nodes WHERE id = " + std::to_string(e.record.stack));
    EXPECT_GE(ip, base);
    EXPECT_LT(ip, base + size);
    EXPECT_EQ(innermost_function(db, e.record.stack), "dl_allocate");
  }
  EXPECT_EQ(found, 1);
}

}  // namespace
}  // namespace memtide::test

namespace memtide::test {
namespace {

// The sqlite3 shell allocates while holding SQLite's memory mutex. With a tiny
// ring, its threads wait for the writer often; the writer's own SQLite must
// not need that mutex (it is a private copy), or this run deadlocks.
TEST(Processes, TracingASqliteProgramDoesNotDeadlock) {
  std::string db = scratch_dir("sqlite_shell") + "/run.db";
  RunOptions options;
  options.env["MEMTIDE_RING_EVENTS"] = "1024";
  options.env["MEMTIDE_RING_MAX_EVENTS"] = "1024";  // kept tiny: no growing out of the waits
  options.timeout_ms = 120000;
  RunResult run = run_traced(
      db,
      {"/usr/bin/sqlite3", ":memory:",
       "CREATE TABLE t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
       "WHERE i < 100000) INSERT INTO t SELECT randomblob(64) FROM n; SELECT count(*) FROM t;"},
      options);
  ASSERT_EQ(run.signal, 0) << "killed after the timeout: deadlock";
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "100000\n");
  EXPECT_GT(query_int(db, "SELECT value FROM counters WHERE name = 'events'"), 100000);
  EXPECT_GT(query_int(db, "SELECT value FROM counters WHERE name = 'backpressure_waits'"), 0);
}

}  // namespace
}  // namespace memtide::test
