// Exact heap and mapping events for programs with known allocation sequences.
#include <gtest/gtest.h>

#include <sstream>

#include "harness.h"

namespace memtide::test {
namespace {

struct Expected {
  EventKind kind;
  uint64_t size;
  uint64_t aux;
};

void expect_sequence(const std::vector<Event>& events, const std::vector<Expected>& expected) {
  ASSERT_EQ(events.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i) + " " + event_kind_name(events[i].record.kind));
    EXPECT_EQ(events[i].record.kind, expected[i].kind);
    EXPECT_EQ(events[i].record.size, expected[i].size);
    EXPECT_EQ(events[i].record.aux, expected[i].aux);
  }
}

TEST(HeapEvents, MallocFamilyRowsAreExact) {
  std::string db = scratch_dir("malloc_family") + "/run.db";
  RunResult run = run_traced(db, {program_path("alloc_exact")});
  ASSERT_EQ(run.exit_code, 0) << run.err;  // 4 would mean calloc overflow lost errno
  std::vector<Event> events = memory_events(between_marks(db, read_events(db)));
  using K = EventKind;
  expect_sequence(events, {
                              {K::kMalloc, 100, 0},
                              {K::kCalloc, 200, 10},
                              {K::kMalloc, 200, 0},
                              {K::kMalloc, 64, 0},
                              {K::kReallocInPlace, 100, 0},
                              {K::kReallocFree, 0, 0},
                              {K::kRealloc, 100000, 0},
                              {K::kRealloc, 300, 0},
                              {K::kReallocArray, 40, 5},
                              {K::kPosixMemalign, 1000, 64},
                              {K::kAlignedAlloc, 1024, 128},
                              {K::kMemalign, 300, 32},
                              {K::kValloc, 5000, 0},
                              {K::kPvalloc, 5000, 0},
                              {K::kReallocFree, 0, 0},  // realloc(d, 0)
                              {K::kFree, 0, 0},
                              {K::kFree, 0, 0},
                              {K::kFree, 0, 0},
                              {K::kFree, 0, 0},
                              {K::kFree, 0, 0},
                              {K::kFree, 0, 0},
                              {K::kFree, 0, 0},
                              {K::kFree, 0, 0},
                              {K::kFree, 0, 0},
                              {K::kFree, 0, 0},
                          });
  // Addresses pair up: each free names a block allocated before it.
  EXPECT_EQ(events[5].record.address, events[2].record.address);   // realloc moved c
  EXPECT_EQ(events[4].record.address, events[2].record.address);   // in place kept it
  EXPECT_EQ(events[14].record.address, events[7].record.address);  // realloc(d, 0)
  EXPECT_EQ(events[15].record.address, events[0].record.address);  // free(a)
  EXPECT_EQ(events[17].record.address, events[6].record.address);  // free(c3)
  // Sequence numbers strictly increase in program order.
  for (size_t i = 1; i < events.size(); ++i)
    EXPECT_LT(events[i - 1].record.seq, events[i].record.seq);
  // Stacks name the calling function; frees carry none by default.
  EXPECT_EQ(innermost_function(db, events[0].record.stack), "make_block");
  EXPECT_EQ(stack_functions(db, events[0].record.stack).at(1), "main");
  EXPECT_EQ(innermost_function(db, events[1].record.stack), "main");
  EXPECT_EQ(events[15].record.stack, 0u);
  // The trace's page size is the one docs/trace-format.md gives.
  EXPECT_EQ(query_int(db, "PRAGMA page_size"), 2048);
}

// A moving realloc of a mapped (large) block unmaps the old block before the
// agent records its free half; the agent must not touch it then (it did, and
// cc1plus died of SIGSEGV under memtide).
TEST(HeapEvents, ReallocOfLargeMappedBlocks) {
  std::string db = scratch_dir("realloc_large") + "/run.db";
  RunResult run = run_traced(db, {program_path("realloc_large")});
  ASSERT_EQ(run.signal, 0) << run.err;
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<Event> events = memory_events(between_marks(db, read_events(db)));
  // Each realloc either resized in place or moved (its old block's free, then
  // the new block); which one is glibc's choice. Either way nothing is lost.
  using K = EventKind;
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].record.kind, K::kMalloc);
  EXPECT_EQ(events[0].record.size, 1u << 20);
  size_t i = 1;
  int moves = 0;
  for (uint64_t size : {uint64_t{64} << 20, uint64_t{100}, uint64_t{256} << 20}) {
    SCOPED_TRACE("realloc to " + std::to_string(size));
    ASSERT_LT(i, events.size());
    const uint64_t previous = events[i - 1].record.address;
    if (events[i].record.kind == K::kReallocInPlace) {
      EXPECT_EQ(events[i].record.size, size);
      EXPECT_EQ(events[i].record.address, previous);
      i += 1;
    } else {
      ASSERT_LT(i + 1, events.size());
      EXPECT_EQ(events[i].record.kind, K::kReallocFree);
      EXPECT_EQ(events[i].record.address, previous);
      EXPECT_EQ(events[i + 1].record.kind, K::kRealloc);
      EXPECT_EQ(events[i + 1].record.size, size);
      i += 2;
      ++moves;
    }
  }
  EXPECT_GE(moves, 1);  // a small block grown to 256 MiB cannot stay in place
  ASSERT_EQ(i + 1, events.size());
  EXPECT_EQ(events[i].record.kind, K::kFree);
}

TEST(HeapEvents, FreeStacksWhenAsked) {
  std::string db = scratch_dir("free_stacks") + "/run.db";
  RunOptions options;
  options.env["MEMTIDE_FREE_STACKS"] = "1";
  ASSERT_EQ(run_traced(db, {program_path("alloc_exact")}, options).exit_code, 0);
  std::vector<Event> events = memory_events(between_marks(db, read_events(db)));
  ASSERT_EQ(events.size(), 25u);
  EXPECT_EQ(innermost_function(db, events[15].record.stack), "main");
}

TEST(HeapEvents, EveryNewAndDeleteVariant) {
  std::string db = scratch_dir("new_delete") + "/run.db";
  RunResult run = run_traced(db, {program_path("new_delete")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<Event> events = memory_events(between_marks(db, read_events(db)));
  using K = EventKind;
  expect_sequence(events, {
                              {K::kNew, 10, 0},
                              {K::kDelete, 0, 0},
                              {K::kNewArray, 20, 0},
                              {K::kDeleteArray, 0, 0},
                              {K::kNewNothrow, 30, 0},
                              {K::kDelete, 0, 0},
                              {K::kNewArrayNothrow, 40, 0},
                              {K::kDeleteArray, 0, 0},
                              {K::kNew, 50, 0},
                              {K::kDelete, 50, 0},
                              {K::kNewArray, 60, 0},
                              {K::kDeleteArray, 60, 0},
                              {K::kNew, 70, 64},
                              {K::kDelete, 0, 64},
                              {K::kNewArray, 80, 64},
                              {K::kDeleteArray, 0, 64},
                              {K::kNewNothrow, 90, 64},
                              {K::kDelete, 0, 64},
                              {K::kNewArrayNothrow, 100, 64},
                              {K::kDeleteArray, 0, 64},
                              {K::kNew, 110, 64},
                              {K::kDelete, 110, 64},
                              {K::kNewArray, 120, 64},
                              {K::kDeleteArray, 120, 64},
                              {K::kNewArray, 130, 0},
                              {K::kFree, 0, 0},
                          });
  for (size_t i = 0; i < events.size(); i += 2)
    EXPECT_EQ(events[i].record.address, events[i + 1].record.address);
  EXPECT_EQ(events[14].record.address % 64, 0u);
}

// No stack starts inside the agent, not even those of the allocations made
// before its constructor ran (libstdc++'s start-up, for a C++ program).
TEST(HeapEvents, NoStackHoldsTheAgentsOwnFrames) {
  std::string db = scratch_dir("no_agent_frames") + "/run.db";
  RunResult run = run_traced(db, {program_path("new_delete")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<Event> events = read_events(db);
  ASSERT_GT(events.size(), 10u);
  size_t checked = 0;
  for (const Event& e : events) {
    if (e.record.stack == 0) continue;
    for (const std::string& function : stack_functions(db, e.record.stack))
      ASSERT_EQ(function.find("memtide::agent"), std::string::npos)
          << "event " << e.record.seq << " has " << function;
    ++checked;
  }
  EXPECT_GT(checked, 10u);
  // The same by address, for builds where the agent's frames have no names:
  // no frame of any stack lies in libmemtide.so (this program calls nothing
  // through the agent).
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM stack_nodes n JOIN modules m ON n.ip >= m.base AND "
                      "n.ip < m.base + m.size WHERE m.path LIKE '%libmemtide.so'"),
            0);
}

TEST(HeapEvents, MappingsWithPartialUnmapsAndMremap) {
  std::string db = scratch_dir("mmap") + "/run.db";
  RunResult run = run_traced(db, {program_path("mmap_partial")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::istringstream addresses(run.out);
  uint64_t p = 0, q = 0, r = 0;
  addresses >> std::hex >> p >> q >> r;
  std::vector<Event> events = memory_events(between_marks(db, read_events(db)));
  using K = EventKind;
  const uint64_t page = 4096;
  ASSERT_EQ(events.size(), 8u);
  const std::vector<std::tuple<K, uint64_t, uint64_t>> expected = {
      {K::kMmap, p, 4 * page},    {K::kMunmap, p + page, page},
      {K::kMunmap, p, page},      {K::kMunmap, p + 2 * page, 2 * page},
      {K::kMmap, q, 2 * page},    {K::kMremapUnmap, q, 2 * page},
      {K::kMremap, r, 64 * page}, {K::kMunmap, r, 64 * page},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(events[i].record.kind, std::get<0>(expected[i]));
    EXPECT_EQ(events[i].record.address, std::get<1>(expected[i]));
    EXPECT_EQ(events[i].record.size, std::get<2>(expected[i]));
  }
  EXPECT_EQ(events[6].record.aux, q);  // mremap names the old address
  const uint64_t prot = events[0].record.aux & 0xffffffff;
  EXPECT_EQ(prot, 3u);  // PROT_READ | PROT_WRITE
}

}  // namespace
}  // namespace memtide::test
