// The pieces behind memtide layers and peak: phases of scope paths, the
// lifetime histogram's quantiles, and snapshots taken from the journal.
#include <gtest/gtest.h>

#include "journaled_groups.h"
#include "lifetime_histogram.h"
#include "memtide/analysis/scope_lifetimes.h"

namespace memtide::analysis {
namespace {

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

}  // namespace
}  // namespace memtide::analysis
