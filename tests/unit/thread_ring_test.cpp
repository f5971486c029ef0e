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
  for (; tail < head; ++tail) seqs.push_back(ring->record_at(tail).seq);
  ring->tail.store(tail, std::memory_order_release);
  return head;
}

// Pushes seq 1..count into `ring` from another thread while this one drains
// it like the writer; returns the seqs in the order they were drained.
std::vector<uint64_t> produce_and_drain(ThreadRing* ring, uint64_t count,
                                        bool drain_only_when_full = false) {
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (uint64_t i = 1; i <= count; ++i) {
      EventRecord e{};
      e.seq = i;
      e.kind = EventKind::kMalloc;
      push_event(ring, e);
    }
    done = true;
  });
  std::vector<uint64_t> seqs;
  while (!done.load() || ring->tail.load() != ring->head.load()) {
    const uint64_t waiting = ring->head.load() - ring->tail.load();
    if (!drain_only_when_full || done.load() ||
        waiting >= ring->capacity.load(std::memory_order_relaxed))
      drain(ring, seqs);
  }
  producer.join();
  drain(ring, seqs);
  return seqs;
}

TEST(ThreadRing, ProducerWaitsInsteadOfDroppingWhenFull) {
  ThreadRing* ring = acquire_ring({1024, 1024}, 1, 0);
  ASSERT_NE(ring, nullptr);
  constexpr uint64_t kEvents = 200000;  // ~200 times the ring
  const uint64_t waits_before = agent_counters().backpressure_waits.load();
  std::vector<uint64_t> seqs = produce_and_drain(ring, kEvents);
  ASSERT_EQ(seqs.size(), kEvents);
  for (uint64_t i = 0; i < kEvents; ++i) ASSERT_EQ(seqs[i], i + 1);
  EXPECT_GT(agent_counters().backpressure_waits.load(), waits_before);
  EXPECT_EQ(ring->capacity.load(), 1024u);  // at its maximum already: it never grows
}

TEST(ThreadRing, WaitingProducerDoublesItsRingUpToTheMaximum) {
  ThreadRing* ring = acquire_ring({1024, 8192}, 2, 0);
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->capacity.load(), 1024u);
  EXPECT_EQ(ring->max_capacity, 8192u);
  // The consumer lets the ring fill before each drain: every fill makes the
  // producer wait, and each of its first three waits doubles the ring.
  constexpr uint64_t kEvents = 100000;
  const uint64_t waits_before = agent_counters().backpressure_waits.load();
  std::vector<uint64_t> seqs = produce_and_drain(ring, kEvents, true);
  ASSERT_EQ(seqs.size(), kEvents);
  for (uint64_t i = 0; i < kEvents; ++i) ASSERT_EQ(seqs[i], i + 1);  // none moved by growing
  EXPECT_EQ(ring->capacity.load(), 8192u);
  // 1024 + 2048 + 4096 events before the ring is at 8192, then one wait per
  // 8192 at most: far fewer waits than a ring kept at 1024 (~97).
  EXPECT_LE(agent_counters().backpressure_waits.load() - waits_before, 3u + kEvents / 8192 + 1);
}

TEST(ThreadRing, RingOfAThreadThatNeverWaitsKeepsItsStartingSize) {
  ThreadRing* ring = acquire_ring({1024, 65536}, 3, 0);
  ASSERT_NE(ring, nullptr);
  std::vector<uint64_t> seqs;
  for (uint64_t i = 1; i <= 10 * 1000; ++i) {
    EventRecord e{};
    e.seq = i;
    push_event(ring, e);
    if (i % 500 == 0) drain(ring, seqs);  // drained well before it is full
  }
  drain(ring, seqs);
  ASSERT_EQ(seqs.size(), 10000u);
  EXPECT_EQ(ring->capacity.load(), 1024u);
}

// Last of the growth tests: it spends the process's growth budget.
TEST(ThreadRing, RingsStopGrowingWhenTheProcessGrowthBudgetIsSpent) {
  ThreadRing* ring = acquire_ring({1024, 1u << 20}, 4, 0);
  ASSERT_NE(ring, nullptr);
  // Doubling from 1024 to 2^20 slots would add 64 MiB, past the budget.
  std::vector<uint64_t> seqs = produce_and_drain(ring, 1200000, true);
  ASSERT_EQ(seqs.size(), 1200000u);
  for (uint64_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i + 1);
  const uint32_t capacity = ring->capacity.load();
  EXPECT_GT(capacity, 1024u);     // it grew while the budget lasted,
  EXPECT_LT(capacity, 1u << 20);  // then stopped short of its maximum,
  EXPECT_LE(ring_growth_bytes(), kRingGrowthBudgetBytes);
  // because the next doubling did not fit.
  EXPECT_GT(ring_growth_bytes() + uint64_t(capacity) * sizeof(EventRecord), kRingGrowthBudgetBytes);
}

TEST(ThreadRing, FreedRingsAreReusedWithFreshThreadIds) {
  ThreadRing* first = acquire_ring({2048, 2048}, 11, 5);
  uint32_t first_id = first->thread_id;
  first->state.store(static_cast<int>(RingState::kFree));
  ThreadRing* second = acquire_ring({2048, 2048}, 12, 6);
  EXPECT_EQ(second, first);
  EXPECT_NE(second->thread_id, first_id);
  EXPECT_EQ(second->tid, 12);
  EXPECT_EQ(second->start_time_ns, 6u);
  ThreadRing* third = acquire_ring({2048, 2048}, 13, 7);
  EXPECT_NE(third, second);
}

TEST(ThreadRing, SharedRingTakesManyProducers) {
  ThreadRing* ring = shared_ring({4096, 4096});
  ASSERT_EQ(ring, shared_ring({4096, 4096}));
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
