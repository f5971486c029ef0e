// The pieces behind memtide layers and peak: phases of scope paths, the
// lifetime histogram's quantiles, snapshots taken from the journal, the
// layer table restricted to a time window, and one step's lifetime bars.
#include <gtest/gtest.h>

#include "journaled_groups.h"
#include "lifetime_histogram.h"
#include "memtide/analysis/scope_lifetimes.h"
#include "memtide/analysis/step_lifetimes.h"
#include "memtide_common/gpu_event.h"
#include "synthetic_trace.h"

namespace memtide::analysis {
namespace {

using test::SyntheticTrace;

// Scopes "model.fc1" (1) and "model.fc1/forward" (2).
void add_scopes(SyntheticTrace& t) {
  t.sql(
      "INSERT INTO strings VALUES(1, 'model.fc1'), (2, 'forward');"
      "INSERT INTO scopes VALUES(1, 0, 1, 1, 'annotate'), (2, 1, 2, 2, 'annotate');");
}

TEST(ScopePhase, InnermostPhaseWordElseTheLastComponent) {
  EXPECT_EQ(phase_of_path("model.layers.3/forward"), "forward");
  EXPECT_EQ(layer_of_path("model.layers.3/forward"), "model.layers.3");
  EXPECT_EQ(phase_of_path("model.layers.3/forward/ln_1"), "forward");
  EXPECT_EQ(layer_of_path("model.layers.3/forward/ln_1"), "model.layers.3");
  EXPECT_EQ(phase_of_path("optimizer/step"), "optimizer");
  EXPECT_EQ(layer_of_path("optimizer/step"), "");
  EXPECT_EQ(phase_of_path("eval/model.layers.0/forward"), "forward");
  EXPECT_EQ(phase_of_path("setup"), "setup");
  EXPECT_EQ(phase_of_path("a/b"), "b");
  EXPECT_EQ(layer_of_path("a/b"), "a");
}

TEST(LifetimeHistogram, ExactBelow32AndWithinAThirtySecondAbove) {
  LifetimeHistogram h;
  for (uint64_t v = 1; v <= 10; ++v) h.add(v);
  EXPECT_EQ(h.quantile(0.5), 5u);
  EXPECT_EQ(h.quantile(0.95), 10u);
  LifetimeHistogram big;
  for (uint64_t v : {1000u, 2000u, 3000u, 1000000u}) big.add(v);
  EXPECT_NEAR(double(big.quantile(0.5)), 2000.0, 2000.0 / 32);
  EXPECT_NEAR(double(big.quantile(0.95)), 1e6, 1e6 / 32);
  big.merge(h);
  EXPECT_EQ(big.count(), 14u);
  EXPECT_EQ(LifetimeHistogram().quantile(0.5), 0u);
}

TEST(JournaledGroups, SnapshotIsTheStateAtTheLastMarkAcrossFolds) {
  JournaledGroups g;
  const GroupKey a{GroupMemory::kHeap, 0, 1, 1}, b{GroupMemory::kHeap, 0, 2, 1};
  g.add(a, 100, 1);
  g.mark(0);
  // Enough changes to fold several times; the mark stays where it was.
  for (int i = 0; i < 200000; ++i) g.add(b, i % 2 ? -8 : 8, i % 2 ? -1 : 1);
  g.add(b, 50, 1);
  g.mark(1);
  g.add(a, -100, -1);
  g.finish();
  ASSERT_EQ(g.snapshot(0).size(), 1u);
  EXPECT_EQ(g.snapshot(0).at(a).bytes, 100);
  ASSERT_EQ(g.snapshot(1).size(), 2u);
  EXPECT_EQ(g.snapshot(1).at(a).bytes, 100);
  EXPECT_EQ(g.snapshot(1).at(b).bytes, 50);
  EXPECT_TRUE(g.snapshot(7).empty());
}

// --device: host blocks, or one GPU's, never the two mixed.
TEST(ScopeLifetimesDevice, CountsOnlyTheBlocksOfThatMemory) {
  SyntheticTrace t("layers_device");
  add_scopes(t);
  GpuAux gpu0, gpu1;
  gpu0.device = 0;
  gpu0.api = GpuApi::kMemAlloc;
  gpu1.device = 1;
  gpu1.api = GpuApi::kMemAlloc;
  t.add(EventKind::kScopeEnter, 0, 0, 1);
  t.add(EventKind::kMalloc, 0xa0, 100, 0, 0, 1);
  t.add(EventKind::kCudaDevice, 0x7000000, 4096, pack_gpu_aux(gpu0), 0, 1);
  t.add(EventKind::kCudaDevice, 0x8000000, 8192, pack_gpu_aux(gpu1), 0, 1);
  t.add(EventKind::kScopeExit, 0, 0, 1);
  const TraceFile trace(t.write());

  auto fc1 = [&](std::optional<int64_t> device) {
    ScopeLifetimesOptions options;
    options.device = device;
    const ScopeLifetimes l = scope_lifetimes(trace, options);
    EXPECT_EQ(l.device, device);
    EXPECT_LE(l.scopes.size(), 1u);  // a scope with no block in that memory is not listed
    return l.scopes.empty() ? ScopeMeasures{} : l.scopes[0].own;
  };
  EXPECT_EQ(fc1(std::nullopt).bytes, 100u + 4096u + 8192u);
  EXPECT_EQ(fc1(std::nullopt).allocations, 3u);
  EXPECT_EQ(fc1(kHostMemory).bytes, 100u);
  EXPECT_EQ(fc1(kHostMemory).allocations, 1u);
  EXPECT_EQ(fc1(0).bytes, 4096u);
  EXPECT_EQ(fc1(0).peak_live_bytes, 4096u);
  EXPECT_EQ(fc1(1).bytes, 8192u);
  EXPECT_EQ(fc1(2).allocations, 0u);

  EXPECT_EQ(memory_name(kHostMemory), "host");
  EXPECT_EQ(memory_name(3), "cuda:3");
  EXPECT_EQ(parse_memory_name("host"), kHostMemory);
  EXPECT_EQ(parse_memory_name("cuda:12"), 12);
  EXPECT_EQ(parse_memory_name("cuda:"), std::nullopt);
  EXPECT_EQ(parse_memory_name("cuda:x"), std::nullopt);
  EXPECT_EQ(parse_memory_name("gpu"), std::nullopt);
}

TEST(ScopeLifetimesWindow, CountsOnlyBlocksAllocatedInTheHalfOpenWindow) {
  SyntheticTrace t("layers_window");
  add_scopes(t);
  t.add(EventKind::kScopeEnter, 0, 0, 1);         // 1 us
  t.add(EventKind::kMalloc, 0xa0, 100, 0, 0, 1);  // 2 us: A
  t.add(EventKind::kStep, 0, 0, 0);               // 3 us
  t.add(EventKind::kMalloc, 0xb0, 200, 0, 0, 1);  // 4 us: B
  t.add(EventKind::kFree, 0xa0, 0, 0, 0, 1);      // 5 us
  t.add(EventKind::kMalloc, 0xc0, 50);            // 6 us: C, no scope
  t.add(EventKind::kScopeExit, 0, 0, 1);          // 7 us
  t.add(EventKind::kFree, 0xb0, 0);               // 8 us: B outlived model.fc1
  const TraceFile trace(t.write());

  ScopeLifetimesOptions only_b;
  only_b.from_ns = 3000;
  only_b.to_ns = 6000;  // C, at 6 us, is outside
  const ScopeLifetimes b = scope_lifetimes(trace, only_b);
  EXPECT_EQ(b.from_ns, 3000u);
  EXPECT_EQ(b.to_ns, 6000u);
  ASSERT_EQ(b.scopes.size(), 1u);
  EXPECT_EQ(b.scopes[0].path, "model.fc1");
  EXPECT_EQ(b.scopes[0].own.allocations, 1u);
  EXPECT_EQ(b.scopes[0].own.bytes, 200u);
  EXPECT_EQ(b.scopes[0].own.peak_live_bytes, 200u);
  EXPECT_EQ(b.scopes[0].own.outliving_bytes, 200u);
  ASSERT_EQ(b.scopes[0].own.outliving_freed_in.size(), 1u);
  EXPECT_EQ(b.scopes[0].own.outliving_freed_in[0].scope, "(no scope)");
  EXPECT_EQ(b.unscoped.allocations, 0u);

  ScopeLifetimesOptions all_three;
  all_three.from_ns = 2000;
  all_three.to_ns = 7000;
  const ScopeLifetimes abc = scope_lifetimes(trace, all_three);
  ASSERT_EQ(abc.scopes.size(), 1u);
  EXPECT_EQ(abc.scopes[0].own.allocations, 2u);
  EXPECT_EQ(abc.scopes[0].own.bytes, 300u);
  EXPECT_EQ(abc.scopes[0].own.peak_live_bytes, 300u);  // A and B at 4 us
  EXPECT_EQ(abc.unscoped.allocations, 1u);
  EXPECT_EQ(abc.unscoped.bytes, 50u);

  ScopeLifetimesOptions from_only;
  from_only.from_ns = 5000;
  EXPECT_TRUE(scope_lifetimes(trace, from_only).scopes.empty());
  EXPECT_EQ(scope_lifetimes(trace, from_only).unscoped.bytes, 50u);
  // With a step: both filters hold.
  all_three.step = 0;
  const ScopeLifetimes step0 = scope_lifetimes(trace, all_three);
  ASSERT_EQ(step0.scopes.size(), 1u);
  EXPECT_EQ(step0.scopes[0].own.bytes, 200u);
}

TEST(StepLifetimes, OneBarPerBlockOfTheStepWithItsScopeStackAndEnd) {
  SyntheticTrace t("step_lifetimes");
  add_scopes(t);
  t.add(EventKind::kMalloc, 0x10, 10);            // 1 us: before the first step
  t.add(EventKind::kStep, 0, 0, 0);               // 2 us
  t.add(EventKind::kScopeEnter, 0, 0, 1);         // 3 us
  t.add(EventKind::kScopeEnter, 0, 0, 2, 0, 1);   // 4 us
  t.add(EventKind::kMalloc, 0xa0, 100, 0, 0, 2);  // 5 us: A
  t.add(EventKind::kNew, 0xb0, 300, 0, 0, 2);     // 6 us: B
  t.add(EventKind::kFree, 0xa0, 0, 0, 0, 2);      // 7 us
  t.add(EventKind::kScopeExit, 0, 0, 2, 0, 2);    // 8 us
  t.add(EventKind::kScopeExit, 0, 0, 1, 0, 1);    // 9 us
  t.add(EventKind::kMalloc, 0xc0, 20);            // 10 us: C
  t.add(EventKind::kStep, 0, 0, 1);               // 11 us
  t.add(EventKind::kDelete, 0xb0, 0);             // 12 us
  const TraceFile trace(t.write());

  const StepGantt g = step_lifetimes(trace, 0, {});
  EXPECT_EQ(g.step, 0);
  EXPECT_EQ(g.start_ns, 2000u);
  EXPECT_EQ(g.end_ns, 11000u);
  EXPECT_EQ(g.bars_left_out, 0u);
  ASSERT_EQ(g.bars.size(), 3u);  // by allocation time
  EXPECT_EQ(g.bars[0].bytes, 100u);
  EXPECT_EQ(g.bars[0].start_ns, 5000u);
  EXPECT_EQ(g.bars[0].end_ns, 7000u);
  EXPECT_EQ(g.bars[0].layer, "model.fc1");
  EXPECT_EQ(g.bars[0].scope, "model.fc1/forward");
  EXPECT_EQ(g.bars[0].memory, "heap");
  EXPECT_EQ(g.bars[1].bytes, 300u);
  EXPECT_EQ(g.bars[1].end_ns, 12000u);  // freed after the step
  EXPECT_EQ(g.bars[2].bytes, 20u);
  EXPECT_EQ(g.bars[2].scope, "");
  EXPECT_EQ(g.bars[2].end_ns, 0u);  // never freed
  EXPECT_EQ(g.layers, (std::vector<std::string>{"model.fc1", ""}));

  StepLifetimesOptions two;
  two.max_bars = 2;
  const StepGantt largest = step_lifetimes(trace, 0, two);
  ASSERT_EQ(largest.bars.size(), 2u);
  EXPECT_EQ(largest.bars_left_out, 1u);
  EXPECT_EQ(largest.bars[0].bytes, 100u);
  EXPECT_EQ(largest.bars[1].bytes, 300u);

  EXPECT_EQ(step_lifetimes(trace, -1, {}).bars.size(), 1u);  // the block before step 0
  EXPECT_TRUE(step_lifetimes(trace, 5, {}).bars.empty());
}

}  // namespace
}  // namespace memtide::analysis
