#include "agent_state.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <new>

#include <vector>
#include "event_clock.h"

namespace memtide::agent {
__thread ThreadState g_thread_state __attribute__((tls_model("initial-exec")));
// The sequence counter is written on every event by every thread, the writer
// signal by the writer thread every cycle: each fills a cache line of its own
// (the types are 64-byte aligned), so their writes never invalidate the line
// of the read-mostly state that every event reads.
SequenceCounter g_seq;
std::atomic<int> g_phase{static_cast<int>(Phase::kBooting)};
std::atomic<int> g_options_state{0};
Options* g_options = nullptr;

namespace {

WriterSignal g_writer_signal;
AgentCounters g_counters;
alignas(Options) unsigned char g_options_storage[sizeof(Options)];

}  // namespace

void set_phase(Phase p) {
  g_phase.store(static_cast<int>(p), std::memory_order_release);
}
AgentCounters& agent_counters() {
  return g_counters;
}
WriterSignal& writer_signal() {
  return g_writer_signal;
}

uint64_t now_ns() {
  return monotonic_clock_ns();
}

void ensure_options() {
  if (g_options_state.load(std::memory_order_acquire) == 2) return;
  int expected = 0;
  if (!g_options_state.compare_exchange_strong(expected, 1)) {
    while (g_options_state.load(std::memory_order_acquire) != 2) sched_yield();
    return;
  }
  Guard guard;
  std::vector<std::string> errors;
  Options parsed = parse_options([](const char* name) { return getenv(name); }, errors);
  for (const std::string& e : errors)
    fprintf(stderr, "memtide: ignoring %s (using the default)\n", e.c_str());
  g_options = new (g_options_storage) Options(std::move(parsed));
  init_event_clock();
  g_options_state.store(2, std::memory_order_release);
}

}  // namespace memtide::agent
