// The recorder's hot path, inlined into the allocation hooks (see recorder.h).
#pragma once

#include <errno.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "event_clock.h"
#include "module_map.h"
#include "real_functions.h"
#include "recorder.h"
#include "thread_ring.h"

namespace memtide::agent {

// libmemtide's own code, whose frames are dropped from captured stacks.
extern uint64_t g_agent_code_begin;
extern uint64_t g_agent_code_end;
// Set from MEMTIDE_UNWINDER when the agent starts: memtide's own unwinder
// (fast_unwind.h) by default, libunwind for every capture otherwise.
extern bool g_fast_unwind;

// Slow path: the calling thread's first event (or its first after exit).
ThreadRing* attach_ring(ThreadState& state);

namespace hot {

inline constexpr int kAgentFrames = 3;
inline constexpr int kMaxCapture = 256 + kAgentFrames;  // configured depth plus the agent's frames
// Entries of a capture's scratch array: the capture (and fast_unwind's own
// frame) plus room for push_event to copy whole frame records past the last
// frame (see kFrameCopyPadding).
inline constexpr int kScratchFrames = kMaxCapture + 1 + kFrameCopyPadding;
static_assert(UnwindHistory::kMaxFrames >= kMaxCapture + 1 + kFrameCopyPadding);

#define MEMTIDE_HOT __attribute__((always_inline)) inline

// A captured stack as sent to the writer, which interns it (see
// thread_ring.h): `depth` frames, of which the `shared` outermost are those
// of the stack this ring sent last; frames[0 .. depth - shared) are the
// others, innermost first.
struct Capture {
  const uint64_t* frames = nullptr;
  uint32_t depth = 0;
  uint32_t shared = 0;
};

// Inlined all the way into the hooks, so that the unwinder starts one frame
// below the hook and walks as few of memtide's own frames as possible.
// `scratch` (kScratchFrames entries) must outlive the capture's use.
MEMTIDE_HOT void capture_stack(ThreadRing* ring, uint64_t* scratch, Capture& capture) {
  const uint32_t depth = static_cast<uint32_t>(options().stack_depth);
  if (depth == 0) return;
  const uint64_t* frames = scratch;
  int n = -1;
  // fast_unwind's own frame comes first: one more than libunwind's.
  if (g_fast_unwind)
    n = fast_unwind(ring ? &ring->unwind : nullptr, scratch, depth + kAgentFrames + 1, &frames);
  if (n < 0) {
    // The hook itself (and at most a helper or two) sits above the caller.
    n = unw_backtrace(reinterpret_cast<void**>(scratch), static_cast<int>(depth) + kAgentFrames);
    frames = scratch;
  }
  int first = 0;
  // Allocations before the agent's constructor (libstdc++'s own start-up)
  // come here first: the range needs no loader, so it is found now.
  if (__builtin_expect(g_agent_code_end == 0, 0))
    agent_code_range(g_agent_code_begin, g_agent_code_end);
  // Drop the agent's own frames (hook, recorder) from the top of the stack.
  while (first < n && reinterpret_cast<uint64_t>(frames[first]) >= g_agent_code_begin &&
         reinterpret_cast<uint64_t>(frames[first]) < g_agent_code_end)
    ++first;
  uint32_t count = static_cast<uint32_t>(n - first);
  if (count > depth) count = depth;
  if (count == 0) {
    // Nothing is sent: the writer's previous stack is no longer the
    // unwinder's previous capture.
    if (ring != nullptr) ring->sent_from_unwind = false;
    return;
  }
  // Outer frames this capture shares with the stack this ring sent last, when
  // that stack is the unwinder's previous capture (a libunwind capture in
  // between is not in the unwinder's history): all of them for a capture
  // that repeats it exactly; else, when both are whole (a stack cut to
  // `depth` lacks its outer frames), those the unwinder found in common.
  uint32_t shared = 0;
  const bool from_history = ring != nullptr && frames != scratch;
  const bool whole = count == static_cast<uint32_t>(n - first);
  if (from_history && ring->sent_from_unwind) {
    if (ring->unwind.repeated)
      shared = count;
    else if (whole && ring->sent_whole)
      shared = ring->unwind.shared_tail < count ? ring->unwind.shared_tail : count;
  }
  if (ring != nullptr) {
    ring->sent_from_unwind = from_history;
    ring->sent_whole = whole;
  }
  capture.frames = frames + first;
  capture.depth = count;
  capture.shared = shared;
}

MEMTIDE_HOT ThreadRing* ring_for_current_thread(ThreadState& state) {
  return state.ring != nullptr ? state.ring : attach_ring(state);
}

// Appends `event` with the stack `capture` (none when its depth is 0).
MEMTIDE_HOT void append(ThreadRing* ring, EventRecord& event, const Capture& capture) {
  if (capture.depth != 0) set_pending_stack(event, {capture.depth, capture.shared});
  const uint32_t new_frames = capture.depth - capture.shared;
  if (ring->state.load(std::memory_order_relaxed) == static_cast<int>(RingState::kShared)) {
    SpinGuard guard(ring->shared_lock);
    push_event(ring, event, capture.frames, new_frames);
  } else {
    push_event(ring, event, capture.frames, new_frames);
  }
}

// `old_usable`: for realloc_free and realloc_in_place, the old block's usable
// size measured before the real realloc (the old block may be unmapped now).
MEMTIDE_HOT void count_live_bytes(ThreadRing* ring, EventKind kind, const void* address,
                                  uint64_t size, uint64_t old_usable) {
  LiveCounters& live = ring->live;
  auto add = [](std::atomic<uint64_t>& counter, uint64_t v) {
    counter.store(counter.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  };
  switch (kind) {
    case EventKind::kMmap:
    case EventKind::kMremap:
      add(live.mmap_mapped, size);
      return;
    case EventKind::kMunmap:
    case EventKind::kMremapUnmap:
      add(live.mmap_unmapped, size);
      return;
    case EventKind::kPoolAlloc:
      add(live.pool_allocated, size);
      return;
    case EventKind::kPoolFree:
      add(live.pool_freed, size);
      return;
    default:
      break;
  }
  if (kind == EventKind::kReallocFree) {
    add(live.heap_freed, old_usable);
    return;
  }
  if (address == nullptr || real.malloc_usable_size == nullptr) return;
  const size_t usable = real.malloc_usable_size(const_cast<void*>(address));
  if (kind == EventKind::kReallocInPlace) {
    add(live.heap_allocated, usable);
    add(live.heap_freed, old_usable);
  } else if (is_allocation(kind)) {
    add(live.heap_allocated, usable);
  } else if (is_deallocation(kind)) {
    add(live.heap_freed, usable);
  }
}

MEMTIDE_HOT void record_event_body(uint64_t seq, EventKind kind, uint64_t address, uint64_t size,
                                   uint64_t aux, bool with_stack, uint64_t old_usable) {
  ThreadState& state = thread_state();
  ThreadRing* ring = ring_for_current_thread(state);
  if (ring == nullptr) return;
  EventRecord event;
  event.seq = seq;
  event.time_ns = event_ticks();  // converted to ns by the writer
  event.address = address;
  event.size = size;
  event.aux = aux;
  event.scope = state.scope;
  event.kind = kind;
  __builtin_memset(event.reserved, 0, sizeof(event.reserved));
  event.stack = 0;  // interned by the writer
  bool shared = ring->state.load(std::memory_order_relaxed) == static_cast<int>(RingState::kShared);
  uint64_t scratch[kScratchFrames];
  Capture capture;
  if (with_stack) capture_stack(shared ? nullptr : ring, scratch, capture);
  if (is_allocation(kind) || is_deallocation(kind) || kind == EventKind::kReallocInPlace)
    count_live_bytes(ring, kind, reinterpret_cast<const void*>(address), size, old_usable);
  append(ring, event, capture);
}

MEMTIDE_HOT void record_event(uint64_t seq, EventKind kind, uint64_t address, uint64_t size,
                              uint64_t aux, bool with_stack, uint64_t old_usable = 0) {
  // Recording must be invisible to the program: errno survives it.
  const int saved_errno = errno;
  record_event_body(seq, kind, address, size, aux, with_stack, old_usable);
  errno = saved_errno;
}

}  // namespace hot

// After the real allocation returned.
MEMTIDE_HOT void record_allocation(EventKind kind, const void* address, uint64_t size,
                                   uint64_t aux) {
  if (address == nullptr || !may_record()) return;
  Guard guard;
  hot::record_event(next_seq(), kind, reinterpret_cast<uint64_t>(address), size, aux, true);
}

// Before the real free runs.
MEMTIDE_HOT void record_release(EventKind kind, const void* address, uint64_t size, uint64_t aux) {
  if (address == nullptr || !may_record()) return;
  Guard guard;
  hot::record_event(next_seq(), kind, reinterpret_cast<uint64_t>(address), size, aux,
                    options().free_stacks);
}

}  // namespace memtide::agent
