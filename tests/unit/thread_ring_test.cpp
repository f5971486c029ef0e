#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "agent_state.h"
#include "thread_ring.h"

#include <algorithm>

namespace memtide::agent {
namespace {

// The consumer side as the writer does it: copy published slots, then release.
uint64_t drain(ThreadRing* ring, std::vector<uint64_t>& seqs) {
  uint64_t head = ring->head.load(std::memory_order_acquire);
  uint64_t tail = ring->tail.load(std::memory_order_relaxed);
  for (; tail < head; ++tail) seqs.push_back(ring->records[tail & (ring->capacity - 1)].seq);
  ring->tail.store(tail, std::memory_order_release);
  return head;
}

TEST(ThreadRing, ProducerWaitsInsteadOfDroppingWhenFull) {
  ThreadRing* ring = acquire_ring(1024, 1, 0);
  ASSERT_NE(ring, nullptr);
  constexpr uint64_t kEvents = 200000;  // ~200 times the ring
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (uint64_t i = 1; i <= kEvents; ++i) {
      EventRecord e{};
      e.seq = i;
      e.kind = EventKind::kMalloc;
      push_event(ring, e);
    }
    done = true;
  });
  std::vector<uint64_t> seqs;
  while (!done.load() || ring->tail.load() != ring->head.load()) drain(ring, seqs);
  producer.join();
  drain(ring, seqs);
  ASSERT_EQ(seqs.size(), kEvents);
  for (uint64_t i = 0; i < kEvents; ++i) ASSERT_EQ(seqs[i], i + 1);
  EXPECT_GT(agent_counters().backpressure_waits.load(), 0u);
}

TEST(ThreadRing, FreedRingsAreReusedWithFreshThreadIds) {
  ThreadRing* first = acquire_ring(2048, 11, 5);
  uint32_t first_id = first->thread_id;
  first->state.store(static_cast<int>(RingState::kFree));
  ThreadRing* second = acquire_ring(2048, 12, 6);
  EXPECT_EQ(second, first);
  EXPECT_NE(second->thread_id, first_id);
  EXPECT_EQ(second->tid, 12);
  EXPECT_EQ(second->start_time_ns, 6u);
  ThreadRing* third = acquire_ring(2048, 13, 7);
  EXPECT_NE(third, second);
}

TEST(ThreadRing, SharedRingTakesManyProducers) {
  ThreadRing* ring = shared_ring(4096);
  ASSERT_EQ(ring, shared_ring(4096));
  constexpr int kThreads = 4, kEach = 20000;
  std::atomic<int> finished{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t)
    producers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        EventRecord e{};
        e.seq = uint64_t(t) * kEach + i;
        SpinGuard guard(ring->shared_lock);
        push_event(ring, e);
      }
      ++finished;
    });
  std::vector<uint64_t> seqs;
  while (finished.load() < kThreads || ring->tail.load() != ring->head.load()) drain(ring, seqs);
  for (auto& p : producers) p.join();
  drain(ring, seqs);
  ASSERT_EQ(seqs.size(), size_t(kThreads * kEach));
  std::sort(seqs.begin(), seqs.end());
  for (size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i);
}

}  // namespace
}  // namespace memtide::agent
