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

struct TakenEvents {
  uint64_t records;  // ring records consumed: whole events with their frames
  uint32_t events;   // events written to `out`
};

// Takes events from `ring` from `tail` on until at least `wanted` records
// (no more than are published) are consumed, the last event's frame records
// included: they were published with it. Each event goes to `out` (room for
// `wanted` events) with its stack interned through the ring's
// WriterStacks: its stack id in place of the pending stack. `mask` is the
// ring's capacity - 1, read after `head`.
TakenEvents take_events(ThreadRing& ring, uint64_t tail, uint32_t wanted, uint64_t mask,
                        EventRecord* out);

}  // namespace memtide::agent
