#include "recorder.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "module_map.h"
#include "name_tables.h"
#include "recorder_hot.h"

namespace memtide::agent {

uint64_t g_agent_code_begin = 0;
uint64_t g_agent_code_end = 0;
bool g_fast_unwind = true;

namespace {

RingSize ring_size() {
  return {static_cast<uint32_t>(options().ring_events),
          static_cast<uint32_t>(options().ring_max_events)};
}

}  // namespace

__attribute__((noinline)) ThreadRing* attach_ring(ThreadState& state) {
  if (state.retired) return shared_ring(ring_size());
  ensure_options();
  pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  ThreadRing* ring = acquire_ring(ring_size(), tid, now_ns());
  if (ring != nullptr) prctl(PR_GET_NAME, ring->name, 0, 0, 0);
  state.ring = ring;
  register_thread_exit_handler();
  return ring;
}

void init_stack_capture() {
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  g_fast_unwind = options().unwinder != "libunwind";
  agent_code_range(g_agent_code_begin, g_agent_code_end);
}

void record_annotation(EventKind kind, uint64_t address, uint64_t size, uint64_t aux,
                       bool with_stack) {
  if (!may_record()) return;
  Guard guard;
  hot::record_event(next_seq(), kind, address, size, aux, with_stack);
}

void record_with_seq(uint64_t seq, EventKind kind, const void* address, uint64_t size, uint64_t aux,
                     bool with_stack, uint64_t old_usable) {
  if (!may_record()) return;
  Guard guard;
  hot::record_event(seq, kind, reinterpret_cast<uint64_t>(address), size, aux, with_stack,
                    old_usable);
}

void record_resize_in_place(const void* address, uint64_t size, uint64_t aux, uint64_t old_usable) {
  if (address == nullptr || !may_record()) return;
  Guard guard;
  hot::record_event(next_seq(), EventKind::kReallocInPlace, reinterpret_cast<uint64_t>(address),
                    size, aux, true, old_usable);
}

void retire_current_thread() {
  ThreadState& state = thread_state();
  ThreadRing* ring = state.ring;
  if (ring == nullptr) return;
  Guard guard;
  prctl(PR_GET_NAME, ring->name, 0, 0, 0);
  ring->end_time_ns = now_ns();
  state.ring = nullptr;
  state.retired = true;
  ring->state.store(static_cast<int>(RingState::kRetired), std::memory_order_release);
  wake_writer();
}

}  // namespace memtide::agent
