// Stops every other thread of the process for the leak scan, in-process:
// LeakSanitizer attaches with ptrace from a helper; memtide signals each
// thread instead. The handler copies the thread's registers and stack pointer
// from its signal context and waits on a futex until the scan resumes the
// world. A thread that does not answer in time (all signals blocked, or in an
// uninterruptible wait) is left running and reported; its stack is then
// scanned whole, conservatively.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

namespace memtide::agent {

inline constexpr int kSavedRegisters = 23;  // x86-64 general registers in a ucontext

struct StoppedThread {
  pid_t tid;
  std::atomic<int> state;  // ThreadStopState
  uint64_t stack_pointer;  // valid once stopped
  uint64_t registers[kSavedRegisters];
};

enum ThreadStopState : int {
  kSignalled = 1,
  kStopped = 2,
  kGone = 3,     // exited before it could be signalled
  kResumed = 4,  // left the handler
};

struct WorldStopResult {
  StoppedThread* threads = nullptr;  // every thread signalled
  uint32_t count = 0;
  uint32_t stopped = 0;
  uint32_t unresponsive = 0;
};

// Signals every thread but the caller and `also_running` (0 for none), and
// waits up to timeout_ms for them to stop. False when nothing could be set up.
bool stop_the_world(pid_t also_running, int timeout_ms, WorldStopResult& result);
// Lets the stopped threads go and waits (briefly) until they left the handler.
void resume_the_world(WorldStopResult& result);

}  // namespace memtide::agent
