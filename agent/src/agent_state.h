// The agent's process-wide state: lifecycle, options, global counters, and the
// per-thread state every hook consults first.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "memtide_common/options.h"

namespace memtide::agent {

struct ThreadRing;

enum class Phase : int {
  kBooting = 0,    // before the constructor: events are buffered in rings
  kRecording = 1,  // writer running
  kFinished = 2,   // final flush done: nothing more is recorded
};

// Per-thread state, in initial-exec TLS so that reading it never allocates.
struct ThreadState {
  int guard;            // > 0 while inside the agent: nothing is recorded
  int exit_iterations;  // calls of the pthread key destructor so far
  bool retired;         // the thread ran its exit handler
  ThreadRing* ring;
  uint32_t scope;  // innermost scope, 0 = none
};

// Plain __thread (not thread_local): a C++ thread_local defined in another
// file is reached through a wrapper call; this is one TLS load.
extern __thread ThreadState g_thread_state __attribute__((tls_model("initial-exec")));
inline ThreadState& thread_state() {
  return g_thread_state;
}

// RAII: marks the calling thread as inside the agent.
class Guard {
 public:
  Guard() : state_(thread_state()) { ++state_.guard; }
  ~Guard() { --state_.guard; }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

 private:
  ThreadState& state_;
};

struct alignas(64) AgentCounters {
  std::atomic<uint64_t> backpressure_waits{0};
  std::atomic<uint64_t> stack_table_full{0};
};

struct alignas(64) WriterSignal {
  std::atomic<int> pending{0};   // futex word: work or a request is waiting
  std::atomic<int> sleeping{0};  // the writer sleeps on `pending`
};

// Read on every event: defined inline over globals of agent_state.cpp.
struct alignas(64) SequenceCounter {
  std::atomic<uint64_t> next{1};
};
extern SequenceCounter g_seq;
extern std::atomic<int> g_phase;
extern std::atomic<int> g_options_state;  // 0 = defaults, 1 = parsing, 2 = parsed
extern Options* g_options;

inline Phase phase() {
  return static_cast<Phase>(g_phase.load(std::memory_order_relaxed));
}
void set_phase(Phase phase);
// Options parsed on first use; safe very early in the process.
void ensure_options();
inline const Options& options() {
  if (__builtin_expect(g_options_state.load(std::memory_order_acquire) != 2, 0)) ensure_options();
  return *g_options;
}
AgentCounters& agent_counters();
WriterSignal& writer_signal();

// The next global sequence number.
inline uint64_t next_seq() {
  return g_seq.next.fetch_add(1, std::memory_order_relaxed);
}
// CLOCK_MONOTONIC in ns (thread, module and process times; events use
// event_ticks(), converted by the writer).
uint64_t now_ns();

// Arms the pthread key whose destructor retires the calling thread's ring.
void register_thread_exit_handler();

bool writer_running();
// Starts the writer before the constructor when early events fill a ring.
void start_writer_early();

}  // namespace memtide::agent
