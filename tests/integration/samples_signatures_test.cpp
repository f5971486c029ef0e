// Each memory technique of the reference engine shows its effect in the
// trace: the sample networks run under the agent and the tests read the
// databases they leave.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <map>
#include <regex>

#include "harness.h"

namespace memtide::test {
namespace {

#ifdef MEMTIDE_HAVE_SAMPLES

// A trace replayed in order, with scope paths at hand.
class SampleTrace {
 public:
  explicit SampleTrace(const std::string& db) : db_(db), events_(read_events(db)) {
    analysis::TraceFile trace(db);
    for (const Event& e : events_)
      if (e.record.scope && !paths_.count(e.record.scope))
        paths_[e.record.scope] = query_text(db, "SELECT path FROM scope_paths WHERE id = " +
                                                    std::to_string(e.record.scope));
    for (const Event& e : events_) {
      if (e.record.kind != EventKind::kScopeEnter || paths_.count(uint32_t(e.record.aux))) continue;
      paths_[uint32_t(e.record.aux)] = query_text(
          db, "SELECT path FROM scope_paths WHERE id = " + std::to_string(e.record.aux));
    }
  }

  const std::vector<Event>& events() const { return events_; }
  const std::string& db() const { return db_; }
  std::string path(uint32_t scope) const {
    auto it = paths_.find(scope);
    return it == paths_.end() ? "" : it->second;
  }

  static bool is_heap_allocation(EventKind k) {
    return is_allocation(k) && k != EventKind::kMmap && k != EventKind::kMremap &&
           k != EventKind::kPoolAlloc;
  }

  // Bytes of heap blocks allocated inside scope `scope_path` and still live
  // when the first training step starts (what the scope left behind, not its
  // temporaries: the model's parameters for "model/init").
  uint64_t heap_bytes_kept_from(const std::string& scope_path) const {
    std::map<uint64_t, uint64_t> live;
    for (const Event& e : events_) {
      if (e.record.kind == EventKind::kStep) break;
      if (is_heap_allocation(e.record.kind) && path(e.record.scope) == scope_path)
        live[e.record.address] = e.record.size;
      else if (is_deallocation(e.record.kind))
        live.erase(e.record.address);
    }
    uint64_t total = 0;
    for (auto& [address, size] : live) total += size;
    return total;
  }

  // Heap allocation calls between the starts of steps `from` and `to`.
  int allocator_calls_between_steps(uint64_t from, uint64_t to) const {
    int calls = 0;
    int64_t step = -1;
    for (const Event& e : events_) {
      if (e.record.kind == EventKind::kStep) step = int64_t(e.record.aux);
      if (step >= int64_t(from) && step < int64_t(to) &&
          (is_heap_allocation(e.record.kind) || e.record.kind == EventKind::kFree ||
           e.record.kind == EventKind::kDelete || e.record.kind == EventKind::kDeleteArray))
        ++calls;
    }
    return calls;
  }

 private:
  std::string db_;
  std::vector<Event> events_;
  std::map<uint32_t, std::string> paths_;
};

std::string sample(const std::string& net) { return std::string(MEMTIDE_SAMPLES_DIR) + "/memtide-sample-" + net; }

SampleTrace run_sample(const std::string& name, std::vector<std::string> args) {
  std::string db = scratch_dir("sample_" + name) + "/run.db";
  RunResult run = run_traced(db, args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return SampleTrace(db);
}

bool is_activation_scope(const std::string& path) {
  static const std::regex activation("model\\.layers\\.[0-9]+/(forward|recompute)");
  return std::regex_match(path, activation);
}

// Live bytes of blocks allocated in forward/recompute scopes of step `step`,
// sampled when the step's loss scope is entered (activations kept for backward).
uint64_t activations_kept_for_backward(const SampleTrace& trace, uint64_t step) {
  std::map<uint64_t, uint64_t> live;  // address -> size of activation blocks
  int64_t current = -1;
  for (const Event& e : trace.events()) {
    const EventRecord& r = e.record;
    if (r.kind == EventKind::kStep) current = int64_t(r.aux);
    if (current != int64_t(step)) continue;
    if (r.kind == EventKind::kScopeEnter && trace.path(uint32_t(r.aux)) == "loss") {
      uint64_t total = 0;
      for (auto& [address, size] : live) total += size;
      return total;
    }
    if (SampleTrace::is_heap_allocation(r.kind) && is_activation_scope(trace.path(r.scope)))
      live[r.address] = r.size;
    if (is_deallocation(r.kind)) live.erase(r.address);
  }
  return 0;
}

// Peak of live activation bytes while step `step` runs backward.
uint64_t backward_activation_peak(const SampleTrace& trace, uint64_t step) {
  std::map<uint64_t, uint64_t> live;
  uint64_t live_bytes = 0, peak = 0;
  int64_t current = -1;
  bool backward = false;
  static const std::regex backward_scope("model\\.layers\\.[0-9]+/backward");
  for (const Event& e : trace.events()) {
    const EventRecord& r = e.record;
    if (r.kind == EventKind::kStep) current = int64_t(r.aux);
    if (r.kind == EventKind::kScopeEnter && current == int64_t(step)) {
      const std::string p = trace.path(uint32_t(r.aux));
      if (std::regex_match(p, backward_scope)) backward = true;
      if (p == "optimizer/step") break;
    }
    if (SampleTrace::is_heap_allocation(r.kind) && is_activation_scope(trace.path(r.scope))) {
      live[r.address] = r.size;
      live_bytes += r.size;
    } else if (is_deallocation(r.kind)) {
      auto it = live.find(r.address);
      if (it != live.end()) {
        live_bytes -= it->second;
        live.erase(it);
      }
    }
    if (backward) peak = std::max(peak, live_bytes);
  }
  return peak;
}

TEST(SampleSignatures, HalfPrecisionHalvesParametersAndActivations) {
  SampleTrace f32 = run_sample("f32", {sample("mlp"), "--steps", "4"});
  SampleTrace f16 = run_sample("f16", {sample("mlp"), "--steps", "4", "--dtype", "f16"});
  const double params =
      double(f16.heap_bytes_kept_from("model/init")) / f32.heap_bytes_kept_from("model/init");
  EXPECT_GT(params, 0.45);
  EXPECT_LT(params, 0.6);
  const double kept = double(activations_kept_for_backward(f16, 2)) /
                      activations_kept_for_backward(f32, 2);
  EXPECT_GT(kept, 0.4);
  EXPECT_LT(kept, 0.6);
}

TEST(SampleSignatures, CheckpointingLowersTheBackwardPeak) {
  SampleTrace plain = run_sample("nockpt", {sample("mlp"), "--steps", "3", "--layers", "8"});
  SampleTrace ckpt =
      run_sample("ckpt", {sample("mlp"), "--steps", "3", "--layers", "8", "--checkpoint", "4"});
  const uint64_t plain_peak = backward_activation_peak(plain, 1);
  const uint64_t ckpt_peak = backward_activation_peak(ckpt, 1);
  ASSERT_GT(plain_peak, 0u);
  EXPECT_LE(double(ckpt_peak), 0.6 * double(plain_peak))
      << "checkpointed " << ckpt_peak << " vs " << plain_peak;
  // Recomputation shows up under its own scope.
  bool recompute = false;
  for (const Event& e : ckpt.events())
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
  auto peak_of = [](const SampleTrace& t, EventKind alloc, EventKind release) {
    std::map<uint64_t, uint64_t> live;
    uint64_t bytes = 0, peak = 0;
    for (const Event& e : t.events()) {
      if (e.record.kind == alloc) live[e.record.address] = e.record.size, bytes += e.record.size;
      if (e.record.kind == release && live.count(e.record.address))
        bytes -= live[e.record.address], live.erase(e.record.address);
      peak = std::max(peak, bytes);
    }
    return peak;
  };
  const uint64_t plain_peak = peak_of(plain, EventKind::kAlignedAlloc, EventKind::kFree);
  const uint64_t pool_peak = peak_of(pooled, EventKind::kPoolAlloc, EventKind::kPoolFree);
  const uint64_t reserve = peak_of(pooled, EventKind::kAlignedAlloc, EventKind::kFree);
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
  auto largest_heap_block = [](const SampleTrace& t) {
    uint64_t largest = 0;
    for (const Event& e : t.events())
      if (SampleTrace::is_heap_allocation(e.record.kind) &&
          t.path(e.record.scope).starts_with("data/"))
        largest = std::max(largest, e.record.size);
    return largest;
  };
  EXPECT_GE(largest_heap_block(heap), 1000000u);
  EXPECT_LT(largest_heap_block(mapped), 100000u);
  int file_mappings = 0;
  for (const Event& e : mapped.events()) {
    const uint64_t flags = e.record.aux >> 32;
    if (e.record.kind == EventKind::kMmap && !(flags & MAP_ANONYMOUS) && e.record.size >= 1000000)
      ++file_mappings;
  }
  EXPECT_EQ(file_mappings, 1);
}

// "ns::function" -> "function".
std::string unqualified(const std::string& name) {
  size_t colon = name.rfind("::");
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

// Blocks still live at the end, by the stack that allocated them.
std::map<std::string, int> live_at_exit_by_function(const SampleTrace& t) {
  std::map<uint64_t, uint32_t> live;  // address -> stack
  for (const Event& e : t.events()) {
    if (SampleTrace::is_heap_allocation(e.record.kind)) live[e.record.address] = e.record.stack;
    else if (is_deallocation(e.record.kind)) live.erase(e.record.address);
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
  SampleTrace t = run_sample("leak_mismatch", {sample("mlp"), "--steps", "4",
                                                "--leak=new-free-mismatch"});
  std::map<uint64_t, const Event*> new_arrays;
  int mismatches = 0;
  for (const Event& e : t.events()) {
    if (e.record.kind == EventKind::kNewArray) new_arrays[e.record.address] = &e;
    if (e.record.kind == EventKind::kFree && new_arrays.count(e.record.address)) {
      for (const std::string& f : stack_functions(t.db(), new_arrays[e.record.address]->record.stack))
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
TEST(SampleSignatures, NeedsTheSamples) { GTEST_SKIP() << "built without MEMTIDE_BUILD_SAMPLES"; }
#endif

}  // namespace
}  // namespace memtide::test
