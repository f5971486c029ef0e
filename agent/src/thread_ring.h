// Per-thread event buffers. Each thread that records owns one ring: it is the
// only producer, the writer thread the only consumer, so publishing an event is
// a plain store and one release store of `head`. A full ring makes its thread
// wait for the writer (back-pressure): events are never dropped.
//
// A ring starts at MEMTIDE_RING_EVENTS slots and doubles, up to
// MEMTIDE_RING_MAX_EVENTS, each time its thread has to wait: the writer
// pauses now and then (a page to compress, a commit, a WAL checkpoint), and a
// thread allocating millions of times a second fills a small ring in those
// pauses. Its slots are mapped for the largest size up front, so growing
// moves nothing; pages of slots never used are never touched, and a thread
// that never outpaces the writer costs no more than the starting size. All
// rings together grow by at most kRingGrowthBudgetBytes.
//
// Rings are registered once in a lock-free list that only grows; a ring whose
// thread exited is drained by the writer and then reused by a new thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "fast_unwind.h"
#include "memtide_common/event.h"
#include "spin_lock.h"
#include "stack_table.h"

namespace memtide::agent {

enum class RingState : int {
  kFree = 0,     // in the registry, available to a new thread
  kActive = 1,   // owned by a live thread
  kRetired = 2,  // thread exited: drain, write its end, then free
  kShared = 3,   // the ring for events of threads past their exit handler
};

// Live-bytes bookkeeping kept by each thread, summed by the sampler.
struct LiveCounters {
  std::atomic<uint64_t> heap_allocated{0};  // usable bytes
  std::atomic<uint64_t> heap_freed{0};
  std::atomic<uint64_t> mmap_mapped{0};
  std::atomic<uint64_t> mmap_unmapped{0};
  std::atomic<uint64_t> pool_allocated{0};
  std::atomic<uint64_t> pool_freed{0};
};

// The writer's record of the stacks a ring sent: the previous stack, its
// outermost frame at frames[kMaxFrames - 1] and its innermost at
// frames[kMaxFrames - depth], so a stack sharing outer frames with it only
// writes its new inner frames; and the lookup caches of interning it.
struct WriterStacks {
  static constexpr uint32_t kMaxFrames = StackCache::kMaxFrames;
  uint64_t frames[kMaxFrames];
  uint32_t depth;
  uint32_t id;  // the previous stack's id (0 = none or out of memory)
  StackCache cache;
};

struct alignas(64) ThreadRing {
  alignas(64) std::atomic<uint64_t> head{0};  // written by the producer
  // The producer's last reading of `tail`, on the producer's own line: tail
  // only grows, so a stale copy errs towards "full" and is re-read then, and
  // the producer does not pull the writer's line over on every event.
  uint64_t tail_seen = 0;
  alignas(64) std::atomic<uint64_t> tail{0};  // written by the writer
  alignas(64) std::atomic<int> state{0};
  // Slots in use, a power of two. Changed only by the producer, while the
  // ring is empty, before the release store of `head` that publishes the
  // next event: a consumer that reads it after an acquire load of `head`
  // finds the capacity the events it can see were stored with.
  std::atomic<uint32_t> capacity{0};
  uint32_t max_capacity = 0;  // slots mapped: the most `capacity` can grow to
  uint32_t thread_id = 0;     // threads.id in the trace
  pid_t tid = 0;
  uint64_t start_time_ns = 0;
  uint64_t end_time_ns = 0;
  char name[16] = {};
  bool row_written = false;    // writer-private
  uint64_t head_seen = 0;      // writer-private: `head` at the writer's previous cycle
  SpinLock shared_lock;        // producers of the shared ring only
  ThreadRing* next = nullptr;  // registry list
  LiveCounters live;
  UnwindHistory unwind;
  // Producer-private: the stack this thread last sent the writer is the
  // capture in unwind's current buffer (`sent_from_unwind`), and that capture
  // was whole, not cut to the configured depth (`sent_whole`).
  bool sent_from_unwind = false;
  bool sent_whole = false;
  // Writer-private: the ring's stacks are interned by the writer, which keeps
  // the ring's previous stack here.
  WriterStacks writer_stacks;
  EventRecord* records = nullptr;
  size_t mapped_bytes = 0;

  // The record with sequence index `index` (head and tail count records).
  // For consumers after an acquire load of `head`, which makes `capacity`
  // that of the records they can see.
  const EventRecord& record_at(uint64_t index) const {
    return records[index & (capacity.load(std::memory_order_relaxed) - 1)];
  }
};

// The registry of all rings. Producers and the writer walk it without locks.
ThreadRing* ring_list_head();

// Slots of a new ring: it starts with `initial` and may grow to `max`
// (powers of two, max >= initial).
struct RingSize {
  uint32_t initial;
  uint32_t max;
};

// A ring for the calling thread (reusing a free one), or null when out of memory.
ThreadRing* acquire_ring(RingSize size, pid_t tid, uint64_t now_ns);
// The one ring shared by threads that already ran their exit handler.
ThreadRing* shared_ring(RingSize size);
// A fresh thread id for the trace (threads.id).
uint32_t next_thread_id();

// Ask the writer to drain (cheap when it is already awake).
void wake_writer();
// What rings may add by growing, all threads together (beyond that, a ring
// stays at its size and its thread waits), and what they have added so far.
inline constexpr uint64_t kRingGrowthBudgetBytes = uint64_t(24) << 20;
uint64_t ring_growth_bytes();

// Slow path of push_event: the ring lacks room for `needed` records, wait
// for the writer (and grow the ring while it is below its maximum). Returns
// the capacity to use.
uint32_t wait_for_ring_space(ThreadRing* ring, uint64_t head, uint32_t needed);

// An event whose stack the writer interns (kEventStackFollows) is followed in
// the ring by frame records: its `depth - shared` innermost frames, innermost
// first, eight to a record. The event and its frame records are published
// by one store of `head`, so the writer never sees one without the other.
inline constexpr uint32_t kFramesPerRecord = sizeof(EventRecord) / sizeof(uint64_t);

struct PendingStack {
  uint32_t depth;   // frames of the whole stack
  uint32_t shared;  // outer frames equal to those of the ring's previous stack
};

inline void set_pending_stack(EventRecord& event, PendingStack stack) {
  const uint16_t fields[2] = {static_cast<uint16_t>(stack.depth),
                              static_cast<uint16_t>(stack.shared)};
  event.reserved[0] |= kEventStackFollows;
  __builtin_memcpy(&event.reserved[1], fields, sizeof(fields));
}

inline bool has_pending_stack(const EventRecord& event) {
  return (event.reserved[0] & kEventStackFollows) != 0;
}

inline PendingStack pending_stack(const EventRecord& event) {
  uint16_t fields[2];
  __builtin_memcpy(fields, &event.reserved[1], sizeof(fields));
  return {fields[0], fields[1]};
}

// The frames sent after the event (none for a record that claims more
// shared frames than the stack has, which a producer never writes).
inline uint32_t new_frames_of(PendingStack stack) {
  return stack.shared < stack.depth ? stack.depth - stack.shared : 0;
}

inline uint32_t frame_records_for(uint32_t new_frames) {
  return (new_frames + kFramesPerRecord - 1) / kFramesPerRecord;
}

// The records an event takes in its ring: itself and its frame records.
inline uint32_t records_of(const EventRecord& event) {
  if (!has_pending_stack(event)) return 1;
  return 1 + frame_records_for(new_frames_of(pending_stack(event)));
}

// Frames past the last that push_event may read: it copies whole records of
// kFramesPerRecord frames, fixed-size copies instead of a call to memcpy for
// the last record's few; the writer reads only the frames that are sent.
inline constexpr uint32_t kFrameCopyPadding = kFramesPerRecord - 1;

// Appends an event and, for an event with a pending stack, its `new_count`
// new frames (readable for kFrameCopyPadding more); waits while the ring is
// full. Inline: it runs on every event.
inline void push_event(ThreadRing* ring, const EventRecord& event,
                       const uint64_t* new_frames = nullptr, uint32_t new_count = 0) {
  const uint32_t frame_records = frame_records_for(new_count);
  const uint32_t needed = 1 + frame_records;
  uint64_t capacity = ring->capacity.load(std::memory_order_relaxed);
  const uint64_t head = ring->head.load(std::memory_order_relaxed);
  if (__builtin_expect(head + needed - ring->tail_seen > capacity, 0)) {
    ring->tail_seen = ring->tail.load(std::memory_order_acquire);
    if (head + needed - ring->tail_seen > capacity)
      capacity = wait_for_ring_space(ring, head, needed);
  }
  const uint64_t mask = capacity - 1;
  ring->records[head & mask] = event;
  for (uint32_t r = 0; r < frame_records; ++r)
    __builtin_memcpy(&ring->records[(head + 1 + r) & mask], new_frames + r * kFramesPerRecord,
                     sizeof(EventRecord));
  const uint64_t next = head + needed;
  ring->head.store(next, std::memory_order_release);
  // Every quarter ring: the writer takes whole pages of half a ring at most
  // and leaves the rest for later, so it must look before the ring is full.
  const uint64_t quarter_mask = ~((capacity >> 2) - 1);
  if ((head & quarter_mask) != (next & quarter_mask)) wake_writer();
}

// The smallest sequence number waiting in a ring other than `ring`
// (UINT64_MAX when they are all drained), for the writer's live set. Read
// after `ring`'s head: an event another thread published before one of
// `ring`'s events happened is then seen. Past 64 rings the scan would cost
// more per batch than the tombstones it saves, and it returns 0.
uint64_t lowest_waiting_seq_except(const ThreadRing* ring);

// After fork, in the child: every ring but `keep` becomes free and empty.
void reset_rings_in_child(ThreadRing* keep);

}  // namespace memtide::agent
