#include "writer_stacks.h"

#include <cstring>

#include "agent_state.h"
#include "stack_table.h"

namespace memtide::agent {

uint32_t intern_pending_stack(WriterStacks& stacks, const EventRecord& event,
                              const EventRecord* frame_records) {
  const PendingStack pending = pending_stack(event);
  constexpr uint32_t kMax = WriterStacks::kMaxFrames;
  // The producer claims shared frames only of a stack it sent this ring, so
  // these hold; a record that broke them would be memory corruption, and it
  // gets no stack rather than another stack's frames.
  if (pending.depth == 0 || pending.depth > kMax || pending.shared > pending.depth ||
      pending.shared > stacks.depth)
    return 0;
  const uint32_t fresh = pending.depth - pending.shared;
  // A repeat of the previous stack: the previous id.
  if (fresh == 0 && pending.depth == stacks.depth && stacks.id != 0) return stacks.id;
  uint64_t* frames = stacks.frames + kMax - pending.depth;
  std::memcpy(frames, frame_records, fresh * sizeof(uint64_t));
  stacks.depth = pending.depth;
  stacks.id = stack_table().intern(frames, pending.depth, &stacks.cache, pending.shared);
  if (stacks.id == 0) agent_counters().stack_table_full.fetch_add(1, std::memory_order_relaxed);
  return stacks.id;
}

uint64_t copy_whole_events(const ThreadRing& ring, uint64_t tail, uint32_t wanted,
                           EventRecord* out) {
  for (uint32_t i = 0; i < wanted; ++i) out[i] = ring.record_at(tail + i);
  uint64_t end = 0;
  while (end < wanted) end += records_of(out[end]);
  for (uint64_t i = wanted; i < end; ++i) out[i] = ring.record_at(tail + i);
  return end;
}

uint32_t intern_batch(WriterStacks& stacks, EventRecord* records, uint32_t count) {
  uint32_t events = 0;
  for (uint32_t i = 0; i < count;) {
    EventRecord event = records[i];
    const uint32_t taken = records_of(event);
    if (has_pending_stack(event)) {
      event.stack = intern_pending_stack(stacks, event, records + i + 1);
      event.reserved[0] &= static_cast<uint8_t>(~kEventStackFollows);
      std::memset(&event.reserved[1], 0, 4);
    }
    // events <= i: the records still to read are not overwritten.
    records[events++] = event;
    i += taken;
  }
  return events;
}

}  // namespace memtide::agent
