#include "writer_stacks.h"

#include <cstring>

#include "agent_state.h"
#include "stack_table.h"

namespace memtide::agent {
namespace {

// The trie edges of every ring's stacks, in one table: the writer alone
// interns, and the edges one thread's stacks use are mostly those of the
// others (on the two-thread storm, two tables of their own took twice the
// writer's cache for the same edges). Only its edges are used.
StackCache g_writer_edges;

// The id of a stack that is not a repeat of the ring's previous one; its
// new frames are in the frame records from ring index `first` on.
uint32_t intern_sent_stack(ThreadRing& ring, PendingStack pending, uint64_t first, uint64_t mask) {
  WriterStacks& stacks = ring.writer_stacks;
  constexpr uint32_t kMax = WriterStacks::kMaxFrames;
  // The producer claims shared frames only of a stack it sent this ring, so
  // these hold; a record that broke them would be memory corruption, and it
  // gets no stack rather than another stack's frames.
  if (pending.depth == 0 || pending.depth > kMax || pending.shared > pending.depth ||
      pending.shared > stacks.depth)
    return 0;
  const uint32_t fresh = new_frames_of(pending);
  uint64_t* frames = stacks.frames + kMax - pending.depth;
  // Record by record: an event's frame records may wrap around the ring's end.
  for (uint32_t done = 0, r = 0; done < fresh; done += kFramesPerRecord, ++r) {
    const uint32_t n = fresh - done < kFramesPerRecord ? fresh - done : kFramesPerRecord;
    std::memcpy(frames + done, &ring.records[(first + r) & mask], n * sizeof(uint64_t));
  }
  stacks.depth = pending.depth;
  stacks.cache.shared_edges = &g_writer_edges;
  stacks.id = stack_table().intern(frames, pending.depth, &stacks.cache, pending.shared);
  if (stacks.id == 0) agent_counters().stack_table_full.fetch_add(1, std::memory_order_relaxed);
  return stacks.id;
}

}  // namespace

TakenEvents take_events(ThreadRing& ring, uint64_t tail, uint32_t wanted, uint64_t mask,
                        EventRecord* out) {
  const WriterStacks& stacks = ring.writer_stacks;
  uint64_t taken = 0;
  uint32_t events = 0;
  while (taken < wanted) {
    EventRecord& event = out[events++];
    event = ring.records[(tail + taken++) & mask];
    if (!has_pending_stack(event)) continue;
    const PendingStack pending = pending_stack(event);
    const uint32_t fresh = new_frames_of(pending);
    // A repeat of the previous stack (the common case in a loop): its id.
    if (fresh == 0 && pending.depth == stacks.depth && stacks.id != 0)
      event.stack = stacks.id;
    else
      event.stack = intern_sent_stack(ring, pending, tail + taken, mask);
    taken += frame_records_for(fresh);
    event.reserved[0] &= static_cast<uint8_t>(~kEventStackFollows);
    std::memset(&event.reserved[1], 0, 4);
  }
  return {taken, events};
}

}  // namespace memtide::agent
