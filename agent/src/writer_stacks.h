// The writer's half of stack capture: the program's threads send each stack
// as the frames it does not share with their previous one (thread_ring.h),
// and the writer turns them into stack ids. Interning a stack costs a few
// dependent cache misses per new frame in a large trie; on the writer they
// no longer delay the program.
#pragma once

#include <cstdint>

#include "memtide_common/event.h"
#include "thread_ring.h"

namespace memtide::agent {

// The stack id of `event`, which has a pending stack whose new frames are
// in `frame_records`; updates `stacks`, the writer's record of the ring's
// stacks. 0 when the stack table is full (counted in stack_table_full).
uint32_t intern_pending_stack(WriterStacks& stacks, const EventRecord& event,
                              const EventRecord* frame_records);

// Copies the records of `ring` from `tail` on to `out`: `wanted` of them
// (no more than are published), and then the rest of the last event's frame
// records, which were published with it. Returns the records copied, which
// end on a whole event; `out` needs room for wanted + kMaxFrameRecords.
uint64_t copy_whole_events(const ThreadRing& ring, uint64_t tail, uint32_t wanted,
                           EventRecord* out);

// Replaces each event with a pending stack in records[0 .. count) by the
// event with its stack id, dropping the frame records: on return the first
// N entries are the events, N returned.
uint32_t intern_batch(WriterStacks& stacks, EventRecord* records, uint32_t count);

}  // namespace memtide::agent
