// Stacks sent through a ring as the frames they do not share with the
// thread's previous stack, interned on the writer's side.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "stack_table.h"
#include "thread_ring.h"
#include "writer_stacks.h"

namespace memtide::agent {
namespace {

// A stack as a thread sends it: its frames (innermost first) and how many
// outer frames it claims to share with the previous one it sent.
struct Sent {
  std::vector<uint64_t> frames;
  uint32_t claimed;
};

// A random walk of stacks: each keeps some outer frames of the one before
// and gets new inner frames from a small set of addresses, so that stacks
// repeat and share nodes. Some repeat the previous stack exactly, some are
// its outer frames only; some claim no shared frames, like a capture that did
// not come from the unwinder.
std::vector<Sent> random_walk(size_t count, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<Sent> stacks;
  std::vector<uint64_t> previous;
  for (size_t i = 0; i < count; ++i) {
    Sent sent;
    if (!previous.empty() && random() % 8 == 0) {
      sent = {previous, static_cast<uint32_t>(previous.size())};
    } else {
      uint32_t keep = previous.empty() ? 0 : random() % (previous.size() + 1);
      // Now and then only outer frames of the previous stack: a call site
      // that called deeper code before calls the allocator directly now
      // (through a function pointer).
      const uint32_t fresh = keep > 0 && random() % 8 == 0 ? 0 : 1 + random() % 20;
      keep = std::min<uint32_t>(keep, WriterStacks::kMaxFrames - fresh);
      for (uint32_t f = 0; f < fresh; ++f) sent.frames.push_back(0x400000 + (random() % 48) * 16);
      sent.frames.insert(sent.frames.end(), previous.end() - keep, previous.end());
      sent.claimed = random() % 4 == 0 ? 0 : keep;
    }
    previous = sent.frames;
    stacks.push_back(std::move(sent));
  }
  return stacks;
}

void send(ThreadRing* ring, uint64_t seq, const Sent& stack) {
  EventRecord event{};
  event.seq = seq;
  event.kind = EventKind::kMalloc;
  const auto depth = static_cast<uint32_t>(stack.frames.size());
  set_pending_stack(event, {depth, stack.claimed});
  // push_event may read a few frames past the last, as it does a capture's.
  std::vector<uint64_t> padded = stack.frames;
  padded.resize(depth + kFrameCopyPadding, 0xdeadULL);
  push_event(ring, event, padded.data(), depth - stack.claimed);
}

// Drains `ring` as the writer does, `batch` records wanted at a time, until
// `events` events have come out; returns them.
std::vector<EventRecord> drain_events(ThreadRing* ring, size_t events, uint32_t batch) {
  std::vector<EventRecord> out;
  std::vector<EventRecord> copied(batch);
  while (out.size() < events) {
    const uint64_t head = ring->head.load(std::memory_order_acquire);
    uint64_t tail = ring->tail.load(std::memory_order_relaxed);
    if (head == tail) {
      std::this_thread::yield();
      continue;
    }
    const auto wanted = static_cast<uint32_t>(std::min<uint64_t>(head - tail, batch));
    const uint64_t mask = ring->capacity.load(std::memory_order_relaxed) - 1;
    const TakenEvents taken = take_events(*ring, tail, wanted, mask, copied.data());
    ring->tail.store(tail + taken.records, std::memory_order_release);
    out.insert(out.end(), copied.begin(), copied.begin() + taken.events);
  }
  return out;
}

std::vector<uint64_t> frames_of(uint32_t id) {
  std::vector<uint64_t> frames;
  for (; id != 0; id = stack_table().node(id).parent) frames.push_back(stack_table().node(id).ip());
  return frames;
}

TEST(WriterStacks, StacksSentAsTheirNewFramesComeOutWhole) {
  // A small ring: it wraps around many times and its thread waits for room.
  ThreadRing* ring = acquire_ring({1024, 1024}, 101, 0);
  ASSERT_NE(ring, nullptr);
  constexpr size_t kStacks = 30000;
  const std::vector<Sent> stacks = random_walk(kStacks, 7);
  std::thread producer([&] {
    for (size_t i = 0; i < kStacks; ++i) send(ring, i + 1, stacks[i]);
  });
  // 7 records at a time: most batches end inside an event's frame records.
  const std::vector<EventRecord> events = drain_events(ring, kStacks, 7);
  producer.join();
  ASSERT_EQ(events.size(), kStacks);
  EXPECT_EQ(ring->head.load(), ring->tail.load());
  for (size_t i = 0; i < kStacks; ++i) {
    ASSERT_EQ(events[i].seq, i + 1);
    ASSERT_FALSE(has_pending_stack(events[i])) << i;
    ASSERT_NE(events[i].stack, 0u) << i;
    ASSERT_EQ(frames_of(events[i].stack), stacks[i].frames) << i;
  }
}

TEST(WriterStacks, ARepeatedStackTakesOneRecordAndKeepsItsId) {
  ThreadRing* ring = acquire_ring({1024, 1024}, 102, 0);
  ASSERT_NE(ring, nullptr);
  const Sent first{{0x1010, 0x2020, 0x3030, 0x4040, 0x5050, 0x6060, 0x7070, 0x8080, 0x9090}, 0};
  const Sent again{first.frames, 9};
  send(ring, 1, first);
  EXPECT_EQ(ring->head.load(), 3u);  // the event and two records of 8 and 1 frames
  send(ring, 2, again);
  EXPECT_EQ(ring->head.load(), 4u);
  const std::vector<EventRecord> events = drain_events(ring, 2, 64);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(frames_of(events[0].stack), first.frames);
  EXPECT_EQ(events[1].stack, events[0].stack);
}

TEST(WriterStacks, AClaimBeyondTheRingsPreviousStackGetsNoStack) {
  // The writer never saw a stack of this ring: it cannot have frames to share.
  ThreadRing* ring = acquire_ring({1024, 1024}, 103, 0);
  ASSERT_NE(ring, nullptr);
  send(ring, 1, {{0x1111, 0x2222, 0x3333}, 2});
  send(ring, 2, {{0x1111, 0x2222, 0x3333}, 0});
  const std::vector<EventRecord> events = drain_events(ring, 2, 64);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].stack, 0u);
  EXPECT_EQ(frames_of(events[1].stack), (std::vector<uint64_t>{0x1111, 0x2222, 0x3333}));
}

}  // namespace
}  // namespace memtide::agent
