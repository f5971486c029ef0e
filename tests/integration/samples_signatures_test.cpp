// Each memory technique of the reference engine shows its effect in the
// trace: the sample networks run under the agent and the tests read the
// databases they leave.
#include <gtest/gtest.h>

#include <map>

#include "harness.h"
#ifdef MEMTIDE_HAVE_SAMPLES
#include "technique_metrics.h"
#endif

namespace memtide::test {
namespace {

#ifdef MEMTIDE_HAVE_SAMPLES

using samples_metrics::TechniqueTrace;
using SampleTrace = TechniqueTrace;

std::string sample(const std::string& net) {
  return std::string(MEMTIDE_SAMPLES_DIR) + "/memtide-sample-" + net;
}

SampleTrace run_sample(const std::string& name, std::vector<std::string> args) {
  std::string db = scratch_dir("sample_" + name) + "/run.db";
  RunResult run = run_traced(db, args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return SampleTrace(db);
}

TEST(SampleSignatures, HalfPrecisionHalvesParametersAndActivations) {
  SampleTrace f32 = run_sample("f32", {sample("mlp"), "--steps", "4"});
  SampleTrace f16 = run_sample("f16", {sample("mlp"), "--steps", "4", "--dtype", "f16"});
  const double params =
      double(f16.heap_bytes_kept_from("model/init")) / f32.heap_bytes_kept_from("model/init");
  EXPECT_GT(params, 0.45);
  EXPECT_LT(params, 0.6);
  const double kept =
      double(f16.activations_kept_for_backward(2)) / f32.activations_kept_for_backward(2);
  EXPECT_GT(kept, 0.4);
  EXPECT_LT(kept, 0.6);
}

TEST(SampleSignatures, CheckpointingLowersTheBackwardPeak) {
  SampleTrace plain = run_sample("nockpt", {sample("mlp"), "--steps", "3", "--layers", "8"});
  SampleTrace ckpt =
      run_sample("ckpt", {sample("mlp"), "--steps", "3", "--layers", "8", "--checkpoint", "4"});
  const uint64_t plain_peak = plain.backward_activation_peak(1);
  const uint64_t ckpt_peak = ckpt.backward_activation_peak(1);
  ASSERT_GT(plain_peak, 0u);
  EXPECT_LE(double(ckpt_peak), 0.6 * double(plain_peak))
      << "checkpointed " << ckpt_peak << " vs " << plain_peak;
  // Recomputation shows up under its own scope.
  bool recompute = false;
  for (const auto& e : ckpt.events())
    if (e.record.kind == EventKind::kScopeEnter &&
        ckpt.path(uint32_t(e.record.aux)).ends_with("/recompute"))
      recompute = true;
  EXPECT_TRUE(recompute);
}

TEST(SampleSignatures, PoolCutsAllocatorCallsAndKeepsThePeakWithinItsReserve) {
  SampleTrace plain = run_sample("nopool", {sample("mlp"), "--steps", "6"});
  SampleTrace pooled = run_sample("pool", {sample("mlp"), "--steps", "6", "--pool"});
  const int plain_calls = plain.allocator_calls_between_steps(2, 5);
  const int pooled_calls = pooled.allocator_calls_between_steps(2, 5);
  ASSERT_GT(plain_calls, 0);
  EXPECT_LE(pooled_calls * 10, plain_calls) << pooled_calls << " vs " << plain_calls;

  // Tensor peak: aligned_alloc blocks without the pool, pool blocks with it.
  const uint64_t plain_peak = plain.peak_of(EventKind::kAlignedAlloc, EventKind::kFree);
  const uint64_t pool_peak = pooled.peak_of(EventKind::kPoolAlloc, EventKind::kPoolFree);
  const uint64_t reserve = pooled.peak_of(EventKind::kAlignedAlloc, EventKind::kFree);
  EXPECT_LE(pool_peak, reserve);
  EXPECT_NEAR(double(pool_peak), double(plain_peak), 0.1 * double(plain_peak));
}

TEST(SampleSignatures, SparseWeightsCutWeightBytes) {
  SampleTrace dense = run_sample("dense", {sample("mlp"), "--steps", "2"});
  SampleTrace sparse = run_sample("sparse", {sample("mlp"), "--steps", "2", "--sparse", "0.1"});
  EXPECT_LE(double(sparse.heap_bytes_kept_from("model/init")),
            0.3 * double(dense.heap_bytes_kept_from("model/init")));
}

TEST(SampleSignatures, MappedDatasetIsAFileMappingNotHeap) {
  SampleTrace heap = run_sample("heapdata", {sample("mlp"), "--steps", "2"});
  SampleTrace mapped = run_sample("mmapdata", {sample("mlp"), "--steps", "2", "--mmap-data"});
  EXPECT_GE(heap.largest_heap_block_under("data/"), 1000000u);
  EXPECT_LT(mapped.largest_heap_block_under("data/"), 100000u);
  EXPECT_EQ(mapped.file_mappings(1000000), 1);
  EXPECT_EQ(heap.file_mappings(1000000), 0);
}

// "ns::function" -> "function".
std::string unqualified(const std::string& name) {
  size_t colon = name.rfind("::");
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

// Blocks still live at the end, by the stack that allocated them.
std::map<std::string, int> live_at_exit_by_function(const SampleTrace& t) {
  std::map<uint64_t, uint32_t> live;  // address -> stack
  for (const auto& e : t.events()) {
    if (SampleTrace::is_heap_allocation(e.record.kind))
      live[e.record.address] = e.record.stack;
    else if (is_deallocation(e.record.kind))
      live.erase(e.record.address);
  }
  std::map<uint32_t, std::vector<std::string>> stacks;
  std::map<std::string, int> by_function;
  for (auto& [address, stack] : live) {
    if (!stacks.count(stack)) stacks[stack] = stack_functions(t.db(), stack);
    for (const std::string& f : stacks[stack])
      if (unqualified(f).starts_with("plant_")) ++by_function[unqualified(f)];
  }
  return by_function;
}

TEST(SampleSignatures, EveryPlantedLeakIsLiveAtExitWithItsPlantingFunction) {
  const std::map<std::string, std::string> kinds = {
      {"activation-cache", "plant_activation_cache_leak"},
      {"loss-history", "plant_loss_history_leak"},
      {"workspace", "plant_workspace_leak"},
      {"shared-ptr-cycle", "plant_shared_ptr_cycle_leak"},
  };
  for (const auto& [kind, function] : kinds) {
    SCOPED_TRACE(kind);
    SampleTrace t = run_sample("leak_" + kind, {sample("mlp"), "--steps", "4", "--leak=" + kind});
    std::map<std::string, int> leaked = live_at_exit_by_function(t);
    EXPECT_GE(leaked[function], 4) << "one planted block per step at least";
    EXPECT_EQ(leaked.size(), 1u);
  }
  SampleTrace clean = run_sample("leak_none", {sample("mlp"), "--steps", "4"});
  EXPECT_TRUE(live_at_exit_by_function(clean).empty());
}

TEST(SampleSignatures, NewArrayFreedWithFreeIsVisible) {
  SampleTrace t =
      run_sample("leak_mismatch", {sample("mlp"), "--steps", "4", "--leak=new-free-mismatch"});
  std::map<uint64_t, const samples_metrics::TracedEvent*> new_arrays;
  int mismatches = 0;
  for (const auto& e : t.events()) {
    if (e.record.kind == EventKind::kNewArray) new_arrays[e.record.address] = &e;
    if (e.record.kind == EventKind::kFree && new_arrays.count(e.record.address)) {
      for (const std::string& f :
           stack_functions(t.db(), new_arrays[e.record.address]->record.stack))
        if (unqualified(f) == "plant_new_free_mismatch") {
          ++mismatches;
          break;
        }
    }
    if (is_deallocation(e.record.kind)) new_arrays.erase(e.record.address);
  }
  EXPECT_EQ(mismatches, 4);
}

#else
TEST(SampleSignatures, NeedsTheSamples) {
  GTEST_SKIP() << "built without MEMTIDE_BUILD_SAMPLES";
}
#endif

}  // namespace
}  // namespace memtide::test
