// Heap effects that need the real malloc's view (heap_count.h): the pool leaves steps without a
// single heap call, the mapped data set stays out of the heap, and every planted leak leaks.
#include <gtest/gtest.h>

#include <unistd.h>

#include "engine/dataset.h"
#include "heap_count.h"
#include "networks/sample.h"
#include "networks/tasks.h"

namespace samples {
namespace {

// Heap counts over steps [from, steps): counting starts before a step and pauses after it.
heap_count::Counts count_steps(Config c, int64_t from) {
  heap_count::Counts total;
  bool first = true;
  engine::StepHooks hooks;
  hooks.before_step = [&](int64_t s) {
    if (s >= from && first) {
      heap_count::start();
      first = false;
    }
  };
  hooks.after_step = [&](int64_t s) {
    if (s == c.steps - 1) total = heap_count::stop();
  };
  run(c, nullptr, hooks);
  return total;
}

// Pointers stored here escape, so the compiler cannot elide the allocations under test.
void* volatile g_escape;

TEST(Heap, CounterSeesMallocAndMismatches) {
  heap_count::start();
  g_escape = std::malloc(100);
  void* p = g_escape;
  char* a = new char[10];
  g_escape = a;
  std::free(p);
  const heap_count::Counts mid = heap_count::stop();
  EXPECT_EQ(mid.calls, 3);
  EXPECT_EQ(mid.outstanding, 1);
  EXPECT_EQ(mid.outstanding_bytes, 10);
  EXPECT_EQ(mid.peak_outstanding_bytes, 110);
  heap_count::start();
  delete[] a;
  g_escape = new char[10];
  std::free(g_escape);
  const heap_count::Counts end = heap_count::stop();
  EXPECT_EQ(end.new_free_mismatches, 1);
  EXPECT_EQ(end.calls, 3);
}

// Steps 2 to 5 under --pool, with every other switch that computes through temporaries.
TEST(Heap, PooledStepsMakeNoHeapCalls) {
  for (Net net : {Net::Mlp, Net::Cnn, Net::Transformer}) {
    Config c = default_config(net);
    c.steps = 6;
    const heap_count::Counts plain = count_steps(c, 2);
    c.pool = true;
    const heap_count::Counts pooled = count_steps(c, 2);
    EXPECT_GE(plain.calls, 4 * 20) << net_name(net);
    EXPECT_EQ(pooled.calls, 0) << net_name(net);
    c.fuse = true;
    c.checkpoint = 2;
    c.dtype = engine::DType::BF16;
    c.density = 0.5f;
    EXPECT_EQ(count_steps(c, 2).calls, 0) << net_name(net) << " with every switch";
  }
}

// A mapped data set puts no more than one record on the heap while it is built; an in-memory one
// puts all of it there.
TEST(Heap, MappedDataSetStaysOutOfTheHeap) {
  auto task = make_clusters_task(1, 16, 4);
  const std::string path =
      ::testing::TempDir() + "memtide-heap-test-" + std::to_string(::getpid()) + ".bin";
  heap_count::start();
  {
    const engine::Dataset mapped = engine::Dataset::mapped(*task, 8192, path, true);
    const heap_count::Counts c = heap_count::stop();
    EXPECT_LT(c.peak_outstanding_bytes, static_cast<int64_t>(mapped.bytes() / 100));
  }
  heap_count::start();
  const engine::Dataset mem = engine::Dataset::in_memory(*task, 8192);
  const heap_count::Counts c = heap_count::stop();
  EXPECT_GE(c.peak_outstanding_bytes, static_cast<int64_t>(mem.bytes()));
}

// Steps 1 to 4 (4 steps): what each planted bug leaves behind.
TEST(Heap, EveryLeakKindLeaks) {
  auto leak_run = [](Leak kind) {
    Config c = default_config(Net::Mlp);
    c.steps = 5;
    c.leak = kind;
    return count_steps(c, 1);
  };
  const heap_count::Counts none = leak_run(Leak::None);
  EXPECT_EQ(none.outstanding, 0);
  EXPECT_EQ(none.new_free_mismatches, 0);
  for (Leak kind :
       {Leak::ActivationCache, Leak::LossHistory, Leak::Workspace, Leak::SharedPtrCycle}) {
    const heap_count::Counts c = leak_run(kind);
    EXPECT_GE(c.outstanding, 4) << leak_name(kind) << ": one block or more per step";
  }
  const heap_count::Counts mismatch = leak_run(Leak::NewFreeMismatch);
  EXPECT_EQ(mismatch.new_free_mismatches, 4);
  EXPECT_EQ(mismatch.outstanding, 0);
}

}  // namespace
}  // namespace samples
