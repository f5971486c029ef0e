// The tracker behind every hook: stamps an event with its sequence number,
// time, thread, scope and stack, and appends it to the thread's ring.
//
// Ordering rule: a hook calls record_allocation() after the real allocation
// returned and record_release() before the real free runs, so an address is
// never seen reused before its free, across threads.
#pragma once

#include <cstdint>

#include "agent_state.h"
#include "memtide_common/event.h"

namespace memtide::agent {

// True when the calling thread may record (not inside the agent, not finished).
inline bool may_record() {
  return thread_state().guard == 0 && phase() != Phase::kFinished;
}

// record_allocation() and record_release() are inline, in recorder_hot.h.
// Scope, step, mark and pool events: no stack unless `with_stack`.
void record_annotation(EventKind kind, uint64_t address, uint64_t size, uint64_t aux,
                       bool with_stack);
// Records an event whose sequence number was taken earlier (realloc's free
// half). `old_usable` is malloc_usable_size of the old block, measured before
// the real realloc ran: afterwards the block may be gone (a large block's
// mapping is unmapped when it moves).
void record_with_seq(uint64_t seq, EventKind kind, const void* address, uint64_t size, uint64_t aux,
                     bool with_stack, uint64_t old_usable);
// realloc kept the block in place: it now has `size` bytes.
void record_resize_in_place(const void* address, uint64_t size, uint64_t aux, uint64_t old_usable);

// Prepare the stack walker (caching policy, own code range); called at start.
void init_stack_capture();

// The calling thread's exit: its ring is drained and then reused.
void retire_current_thread();

}  // namespace memtide::agent
