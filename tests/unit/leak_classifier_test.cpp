// The leak scan's pure parts: the live set's replay out of sequence order,
// and the classifier's four categories on blocks laid out in a test buffer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "leak_classifier.h"
#include "live_set.h"

namespace memtide::agent {
namespace {

EventRecord event(uint64_t seq, EventKind kind, uint64_t address, uint64_t size = 0) {
  EventRecord e{};
  e.seq = seq;
  e.kind = kind;
  e.address = address;
  e.size = size;
  return e;
}

TEST(LiveSet, LatestSequenceNumberWinsWhateverTheArrivalOrder) {
  LiveSet set;
  // Thread B's reuse of 0x1000 (seq 11) is drained before thread A's free (seq 10).
  set.apply(event(5, EventKind::kMalloc, 0x1000, 32));
  set.apply(event(11, EventKind::kMalloc, 0x1000, 48));
  set.apply(event(10, EventKind::kFree, 0x1000));
  // A free drained before the allocation it ends (seq 20 before seq 21's free).
  set.apply(event(21, EventKind::kFree, 0x2000));
  set.end_cycle(20);                     // seq 20 still waits in a ring
  EXPECT_EQ(set.tombstone_count(), 1u);  // 0x2000's (21) is kept
  set.apply(event(20, EventKind::kMalloc, 0x2000, 64));
  EXPECT_EQ(set.live_count(), 1u);  // the late allocation did not come back
  set.end_cycle(21);
  EXPECT_EQ(set.tombstone_count(), 1u);  // 21 itself is not below 21
  set.end_cycle(UINT64_MAX);             // the rings are empty
  EXPECT_EQ(set.tombstone_count(), 0u);
  MappedVector<LiveBlock> live;
  ASSERT_TRUE(set.collect(live));
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].address, 0x1000u);
  EXPECT_EQ(live[0].size, 48u);
}

TEST(LiveSet, ReallocInPlaceResizesAndTableGrows) {
  LiveSet set;
  for (uint64_t i = 1; i <= 20000; ++i) set.apply(event(i, EventKind::kMalloc, i * 16, 8));
  set.apply(event(30000, EventKind::kReallocInPlace, 16, 100));
  for (uint64_t i = 2; i <= 20000; ++i) set.apply(event(30000 + i, EventKind::kFree, i * 16));
  EXPECT_EQ(set.live_count(), 1u);
  MappedVector<LiveBlock> live;
  ASSERT_TRUE(set.collect(live));
  EXPECT_EQ(live[0].size, 100u);
}

// The writer applies whole pages at once (with its slots fetched ahead):
// the result is the one event-by-event application gives, across growth.
TEST(LiveSet, ApplyingABatchEqualsApplyingEachEvent) {
  std::vector<EventRecord> events;
  uint64_t seq = 1;
  for (uint64_t round = 0; round < 3; ++round) {
    for (uint64_t i = 1; i <= 9000; ++i)
      events.push_back(event(seq++, EventKind::kMalloc, (i * 7919 % 100000) * 16, i));
    for (uint64_t i = 1; i <= 9000; i += 2)
      events.push_back(event(seq++, EventKind::kFree, (i * 7919 % 100000) * 16));
  }
  LiveSet one_by_one, batched;
  for (const EventRecord& e : events) one_by_one.apply(e);
  for (size_t first = 0; first < events.size(); first += 8192)
    batched.apply_all(events.data() + first,
                      static_cast<uint32_t>(std::min<size_t>(8192, events.size() - first)));
  EXPECT_EQ(batched.live_count(), one_by_one.live_count());
  EXPECT_EQ(batched.live_count(), 4500u);
  MappedVector<LiveBlock> a, b;
  ASSERT_TRUE(one_by_one.collect(a));
  ASSERT_TRUE(batched.collect(b));
  std::vector<std::pair<uint64_t, uint64_t>> pa, pb;
  for (size_t i = 0; i < a.size(); ++i) pa.emplace_back(a[i].address, a[i].size);
  for (size_t i = 0; i < b.size(); ++i) pb.emplace_back(b[i].address, b[i].size);
  std::sort(pa.begin(), pa.end());
  std::sort(pb.begin(), pb.end());
  EXPECT_EQ(pa, pb);
}

// A free later than everything still waiting in other rings erases its block
// at once; one that is not leaves a tombstone against an allocation that has
// yet to arrive.
TEST(LiveSet, FreesLaterThanEveryOtherRingLeaveNoTombstone) {
  LiveSet set;
  for (uint64_t i = 1; i <= 100; ++i) set.apply(event(i, EventKind::kMalloc, i * 64, 16));
  std::vector<EventRecord> frees;
  for (uint64_t i = 1; i <= 60; ++i) frees.push_back(event(100 + i, EventKind::kFree, i * 64));
  // The other rings hold nothing below seq 1000 (or nothing at all).
  set.apply_all(frees.data(), static_cast<uint32_t>(frees.size()), 1000);
  EXPECT_EQ(set.live_count(), 40u);
  EXPECT_EQ(set.tombstone_count(), 0u);
  // A free of a block whose allocation is not here yet, with nothing waiting
  // elsewhere, leaves nothing either.
  EventRecord lone = event(200, EventKind::kFree, 0x900000);
  set.apply_all(&lone, 1, UINT64_MAX);
  EXPECT_EQ(set.tombstone_count(), 0u);
  // Another ring still holds seq 300: the free at 301 keeps a tombstone, and
  // the allocation at 300 drained after it does not bring the block back.
  EventRecord early_free = event(301, EventKind::kFree, 0x800000);
  set.apply_all(&early_free, 1, 300);
  EXPECT_EQ(set.tombstone_count(), 1u);
  set.apply(event(300, EventKind::kMalloc, 0x800000, 8));
  EXPECT_EQ(set.live_count(), 40u);
  // A free older than the block's current allocation changes nothing.
  EventRecord stale = event(50, EventKind::kFree, 61 * 64);
  set.apply_all(&stale, 1, UINT64_MAX);
  EXPECT_EQ(set.live_count(), 40u);
  set.end_cycle(UINT64_MAX);
  EXPECT_EQ(set.tombstone_count(), 0u);
  MappedVector<LiveBlock> live;
  ASSERT_TRUE(set.collect(live));
  std::vector<uint64_t> addresses;
  for (size_t i = 0; i < live.size(); ++i) addresses.push_back(live[i].address);
  std::sort(addresses.begin(), addresses.end());
  ASSERT_EQ(addresses.size(), 40u);
  EXPECT_EQ(addresses.front(), 61u * 64);
  EXPECT_EQ(addresses.back(), 100u * 64);
}

// Blocks are 64-byte slots of a buffer; roots are a separate array.
struct Heap {
  alignas(64) uint64_t words[8 * 8] = {};
  LiveBlock blocks[8];
  uint64_t at(int block, int offset = 0) {
    return reinterpret_cast<uint64_t>(&words[block * 8]) + offset;
  }
  void link(int from, int slot, uint64_t to) { words[from * 8 + slot] = to; }
  Heap() {
    for (int i = 0; i < 8; ++i) blocks[i] = LiveBlock{at(i), 64};
  }
};

TEST(LeakClassifier, FourCategoriesAsValgrindDefinesThem) {
  Heap heap;
  heap.link(0, 0, heap.at(1));      // 0 (root) -> 1: both reachable
  heap.link(2, 0, heap.at(3, 24));  // 2 lost, 3 only through 2's interior pointer: indirect
  heap.link(4, 0, heap.at(5));      // cycle 4 <-> 5, nothing outside: 4 definite, 5 indirect
  heap.link(5, 0, heap.at(4));
  heap.link(6, 0, heap.at(7));  // 6 reached only through an interior root: possible, 7 too
  const uint64_t roots[] = {heap.at(0), heap.at(6, 8), 12345};
  LeakClassifier c;
  ASSERT_TRUE(c.prepare(heap.blocks, 8));
  c.scan_root_words(roots, 3);
  c.flood();
  c.classify_unreached();
  EXPECT_EQ(c.category(0), LeakCategory::kReachable);
  EXPECT_EQ(c.category(1), LeakCategory::kReachable);
  EXPECT_EQ(c.category(2), LeakCategory::kDefinite);
  EXPECT_EQ(c.category(3), LeakCategory::kIndirect);
  EXPECT_EQ(c.category(4), LeakCategory::kDefinite);
  EXPECT_EQ(c.category(5), LeakCategory::kIndirect);
  EXPECT_EQ(c.category(6), LeakCategory::kPossible);
  EXPECT_EQ(c.category(7), LeakCategory::kPossible);
}

TEST(LeakClassifier, FindsBlocksSpanningManyLinesAndNothingBetween) {
  static uint64_t big[4096];  // 32 KiB: looked up by binary search
  LiveBlock blocks[] = {{reinterpret_cast<uint64_t>(big), sizeof big}};
  LeakClassifier c;
  ASSERT_TRUE(c.prepare(blocks, 1));
  EXPECT_EQ(c.find_block(reinterpret_cast<uint64_t>(&big[4000])), 0);
  EXPECT_EQ(c.find_block(reinterpret_cast<uint64_t>(big) + sizeof big), -1);
}

}  // namespace
}  // namespace memtide::agent
