#include "signal_chain.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <atomic>

#include "agent_state.h"
#include "leak_scan.h"
#include "real_functions.h"
#include "writer.h"

namespace memtide::agent {
namespace {

// SIGTERM and SIGINT always flush; the fault signals flush only when the
// program leaves them at their default (fatal) action, since runtimes such as
// the JVM use SIGSEGV for their own purposes.
constexpr int kHandled[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT,
                            SIGSEGV, SIGBUS, SIGFPE, SIGILL};
constexpr int kMaxSignal = 65;
constexpr int kFlushTimeoutMs = 3000;

struct ProgramHandler {
  struct sigaction action;
  bool managed;  // memtide's handler is installed for this signal
};
ProgramHandler g_program[kMaxSignal];
std::atomic<bool> g_installed{false};

bool is_handled(int sig) {
  for (int s : kHandled)
    if (s == sig) return true;
  return false;
}

const char* end_reason_for(int sig) {
  switch (sig) {
    case SIGTERM:
      return "signal SIGTERM";
    case SIGINT:
      return "signal SIGINT";
    case SIGHUP:
      return "signal SIGHUP";
    case SIGQUIT:
      return "signal SIGQUIT";
    case SIGABRT:
      return "signal SIGABRT";
    case SIGSEGV:
      return "signal SIGSEGV";
    case SIGBUS:
      return "signal SIGBUS";
    case SIGFPE:
      return "signal SIGFPE";
    case SIGILL:
      return "signal SIGILL";
  }
  return "signal";
}

bool is_fault(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL;
}

// A program that dies of a fault under memtide (and not without it) must be
// diagnosable from its stderr: the faulting address and the native stack,
// each frame as module+offset and symbol where dladdr knows one.
void report_fault(int sig, const siginfo_t* info) {
  if (options().quiet) return;
  char line[512];
  int n = snprintf(line, sizeof line, "memtide: process %d received %s (address %p); stack:\n",
                   int(getpid()), end_reason_for(sig) + 7, info ? info->si_addr : nullptr);
  if (write(2, line, size_t(n)) < 0) return;
  void* frames[48];
  const int count = unw_backtrace(frames, 48);
  for (int i = 0; i < count; ++i) {
    Dl_info where;
    const char* module = "?";
    const char* symbol = "";
    uintptr_t offset = reinterpret_cast<uintptr_t>(frames[i]);
    if (dladdr(frames[i], &where) && where.dli_fname) {
      module = where.dli_fname;
      offset -= reinterpret_cast<uintptr_t>(where.dli_fbase);
      if (where.dli_sname) symbol = where.dli_sname;
    }
    n = snprintf(line, sizeof line, "  #%d %s+0x%lx %s\n", i, module, (unsigned long)offset,
                 symbol);
    if (write(2, line, size_t(n)) < 0) return;
  }
}

// A fatal termination signal ends the process with this thread waiting for
// the flush, during which the writer scans for leaks: as at exit, the
// thread's registers are spilled into this frame, and the interrupted ones
// are in the signal context.
__attribute__((noinline)) void final_flush_from_handler(int sig, const void* context) {
  __builtin_unwind_init();
  uint64_t stack_pointer;
  __asm__ volatile("mov %%rsp, %0" : "=r"(stack_pointer));
  note_exiting_thread(stack_pointer, static_cast<const ucontext_t*>(context));
  flush_writer(end_reason_for(sig), 128 + sig, true, kFlushTimeoutMs);
  __asm__ volatile("" ::: "memory");
}

void on_signal(int sig, siginfo_t* info, void* context) {
  // The leak scan reading memory that vanished under it: resume the scan.
  if (is_fault(sig)) recover_if_scan_fault(sig, info, context);
  const int saved_errno = errno;
  struct sigaction& program = g_program[sig].action;
  const bool fatal = program.sa_handler == SIG_DFL;
  // A fault inside the agent itself (the writer included) cannot wait for the
  // writer: the state it would flush may be what broke.
  const bool fault_inside_agent = is_fault(sig) && thread_state().guard > 0;
  if ((fatal || !is_fault(sig)) && !fault_inside_agent) {
    // The writer commits everything published so far; a fatal signal also
    // marks the trace as ended by it.
    if (fatal)
      final_flush_from_handler(sig, context);
    else
      flush_writer(nullptr, 128 + sig, false, kFlushTimeoutMs);
  }
  errno = saved_errno;
  if (program.sa_handler == SIG_IGN) return;
  if (fatal) {
    if (is_fault(sig)) report_fault(sig, info);
    set_phase(Phase::kFinished);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    real.sigaction(sig, &dfl, nullptr);
    // Faults re-execute the faulting instruction on return and die; other
    // signals are raised again and delivered once the handler returns.
    if (!is_fault(sig) || info->si_code <= 0) raise(sig);
    return;
  }
  if (program.sa_flags & SA_SIGINFO)
    program.sa_sigaction(sig, info, context);
  else
    program.sa_handler(sig);
  if (program.sa_flags & SA_RESETHAND) program.sa_handler = SIG_DFL;
}

void install(int sig) {
  struct sigaction ours, previous;
  memset(&ours, 0, sizeof(ours));
  ours.sa_sigaction = on_signal;
  ours.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigfillset(&ours.sa_mask);
  if (real.sigaction(sig, nullptr, &previous) != 0) return;
  // Ignored signals stay ignored (nohup, background jobs): nothing to flush.
  if (previous.sa_handler == SIG_IGN) return;
  g_program[sig].action = previous;
  if (real.sigaction(sig, &ours, nullptr) == 0) g_program[sig].managed = true;
}

}  // namespace

void install_signal_handlers() {
  for (int sig : kHandled) install(sig);
  g_installed.store(true, std::memory_order_release);
}

// Shared by the sigaction and signal hooks: true when handled here.
bool chain_sigaction(int sig, const struct sigaction* act, struct sigaction* old, int* result) {
  if (!g_installed.load(std::memory_order_acquire) || sig <= 0 || sig >= kMaxSignal ||
      !is_handled(sig) || !g_program[sig].managed)
    return false;
  if (act != nullptr && act->sa_handler == SIG_IGN) {
    // The program ignores it from now on: give the kernel the real thing.
    if (old) *old = g_program[sig].action;
    g_program[sig].managed = false;
    g_program[sig].action = *act;
    *result = real.sigaction(sig, act, nullptr);
    return true;
  }
  if (old) *old = g_program[sig].action;
  if (act) g_program[sig].action = *act;
  *result = 0;
  return true;
}

}  // namespace memtide::agent

using memtide::agent::chain_sigaction;
using memtide::agent::real;

extern "C" {

int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (!memtide::agent::real_functions_ready()) memtide::agent::resolve_real_functions();
  int result = 0;
  if (chain_sigaction(sig, act, old, &result)) return result;
  return real.sigaction(sig, act, old);
}

sighandler_t signal(int sig, sighandler_t handler) {
  if (!memtide::agent::real_functions_ready()) memtide::agent::resolve_real_functions();
  struct sigaction act, old;
  memset(&act, 0, sizeof(act));
  act.sa_handler = handler;
  act.sa_flags = SA_RESTART;  // BSD semantics, as glibc's signal()
  sigemptyset(&act.sa_mask);
  int result = 0;
  if (chain_sigaction(sig, &act, &old, &result)) return result == 0 ? old.sa_handler : SIG_ERR;
  return real.signal(sig, handler);
}

}  // extern "C"
