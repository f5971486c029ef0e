// The leak scan at exit: stops the other threads, reads the roots (writable
// memory of the loaded objects and anonymous mappings, thread stacks above
// their stack pointers, saved registers, thread control blocks and static TLS,
// which glibc keeps at the top of each thread's stack mapping or in mappings
// of the dynamic loader), floods through the live heap blocks and classifies
// each one (leak_classifier.h). Runs on the writer thread before the trace is
// closed; SQLite is touched only after the world is running again, since a
// stopped thread may hold malloc's locks.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>

#include "leak_classifier.h"
#include "live_set.h"
#include "mapped_vector.h"

namespace memtide::agent {

struct LeakScanOutcome {
  bool done = false;
  const char* skipped_reason = nullptr;  // when not done
  MappedVector<LiveBlock> blocks;        // sorted by address
  MappedVector<uint8_t> categories;      // LeakCategory per block
  uint64_t elapsed_ms = 0;               // from stopping the world to resuming it
  uint32_t threads_stopped = 0;
  uint32_t threads_unresponsive = 0;
  uint64_t root_bytes = 0;
  uint32_t faults = 0;  // reads that faulted and were skipped
};

// Once, on the writer thread when it starts: what the scan must know but may
// not ask for while the world is stopped (the loader's lock may be held).
void prepare_leak_scan();

// The thread that ends the process (exit, _exit, a termination signal) is
// blocked in the final flush while the writer scans: it records where its
// live stack begins, with its callee-saved registers spilled above that
// point. `interrupted` is the signal context when called from a handler.
void note_exiting_thread(uint64_t stack_pointer, const ucontext_t* interrupted);

// A thread is exiting: its stack below its thread descriptor is dead memory
// from now on (glibc keeps the mapping for reuse), not a root.
void note_thread_stack_retired();

// From the fault signal handler: when the scan itself faulted on memory that
// changed under it, resumes the scan past that memory (does not return).
void recover_if_scan_fault(int sig, const siginfo_t* info, const void* context);

// Applies the events the rings hold and the writer has not drained yet
// (at the stop, and in a forked child whose rings are emptied).
void absorb_ring_events_into_live_set();

// Stops the world, ends recording, applies the events still in the rings to
// the live set, classifies every live heap block and resumes the world.
void run_leak_scan(LeakScanOutcome& outcome);

}  // namespace memtide::agent
