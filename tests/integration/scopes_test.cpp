// Scopes from memtide/annotate.h and from NVTX reach the right events.
#include <gtest/gtest.h>

#include "harness.h"

namespace memtide::test {
namespace {

std::string scope_path(const std::string& db, uint32_t scope) {
  if (scope == 0) return "";
  return query_text(db, "SELECT path FROM scope_paths WHERE id = " + std::to_string(scope));
}

std::map<uint64_t, std::vector<std::string>> scopes_by_malloc_size(const std::string& db) {
  std::map<uint64_t, std::vector<std::string>> out;
  for (const Event& e : read_events(db))
    if (e.record.kind == EventKind::kMalloc)
      out[e.record.size].push_back(scope_path(db, e.record.scope));
  return out;
}

TEST(Scopes, AnnotateScopesStepsAndPools) {
  std::string db = scratch_dir("annotate") + "/run.db";
  RunResult run = run_traced(db, {program_path("annotate_scopes")});
  ASSERT_EQ(run.exit_code, 0) << "memtide_active() must be 1 under the agent: " << run.err;
  auto scopes = scopes_by_malloc_size(db);
  EXPECT_EQ(scopes[1111], (std::vector<std::string>{"layer1", "layer1"}));
  EXPECT_EQ(scopes[2222], (std::vector<std::string>{"layer1/forward", "layer1/forward"}));
  EXPECT_EQ(scopes[3333], (std::vector<std::string>{""}));
  std::vector<uint64_t> steps;
  std::vector<std::tuple<EventKind, uint64_t, uint64_t, std::string>> pool;
  for (const Event& e : read_events(db)) {
    if (e.record.kind == EventKind::kStep) steps.push_back(e.record.aux);
    if (e.record.kind >= EventKind::kPoolCreate && e.record.kind <= EventKind::kPoolDestroy)
      pool.emplace_back(e.record.kind, e.record.size, e.record.aux, scope_path(db, e.record.scope));
  }
  EXPECT_EQ(steps, (std::vector<uint64_t>{1, 2}));
  ASSERT_EQ(pool.size(), 5u);
  EXPECT_EQ(pool[0],
            std::make_tuple(EventKind::kPoolCreate, uint64_t(0), uint64_t(1), std::string()));
  EXPECT_EQ(pool[1], std::make_tuple(EventKind::kPoolAlloc, uint64_t(100), uint64_t(1),
                                     std::string("layer2")));
  EXPECT_EQ(pool[2], std::make_tuple(EventKind::kPoolAlloc, uint64_t(200), uint64_t(1),
                                     std::string("layer2")));
  EXPECT_EQ(pool[3],
            std::make_tuple(EventKind::kPoolFree, uint64_t(100), uint64_t(1), std::string()));
  EXPECT_EQ(pool[4],
            std::make_tuple(EventKind::kPoolDestroy, uint64_t(0), uint64_t(1), std::string()));
  EXPECT_EQ(query_text(db, "SELECT s.value FROM pools p JOIN strings s ON s.id = p.name_id"),
            "arena");
}

TEST(Scopes, AnnotatedProgramRunsUnchangedWithoutTheAgent) {
  RunOptions bare;
  bare.preload = false;
  RunResult run = run_traced("", {program_path("annotate_scopes")}, bare);
  EXPECT_EQ(run.exit_code, 3);  // memtide_active() is 0: the weak symbols are unresolved
}

TEST(Scopes, NvtxRangesBecomeScopes) {
#ifndef MEMTIDE_HAVE_NVTX_PROGRAM
  GTEST_SKIP() << "built without the nvtx3 headers";
#else
  std::string db = scratch_dir("nvtx") + "/run.db";
  RunResult run = run_traced(db, {program_path("nvtx_scopes")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto scopes = scopes_by_malloc_size(db);
  EXPECT_EQ(scopes[1234], (std::vector<std::string>{"model.layers.0"}));
  EXPECT_EQ(scopes[2345], (std::vector<std::string>{"model.layers.0/forward"}));
  EXPECT_EQ(scopes[3456], (std::vector<std::string>{"engine::attention"}));
  EXPECT_EQ(query_text(db, "SELECT group_concat(DISTINCT source) FROM scopes"), "nvtx");
  int marks = 0;
  const int64_t checkpoint = query_int(db, "SELECT id FROM strings WHERE value = 'checkpoint'");
  for (const Event& e : read_events(db))
    if (e.record.kind == EventKind::kMark && int64_t(e.record.aux) == checkpoint) ++marks;
  EXPECT_EQ(marks, 1);
#endif
}

}  // namespace
}  // namespace memtide::test
