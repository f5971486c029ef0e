#include "world_stop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstring>

#include "os_memory.h"
#include "real_functions.h"

namespace memtide::agent {
namespace {

// A real-time signal far from SIGRTMIN, which timers and libraries use first.
int stop_signal() {
  return SIGRTMAX - 3;
}

constexpr uint32_t kMaxThreads = 65536;

struct Session {
  std::atomic<int> active{0};
  std::atomic<int> released{0};  // futex word the stopped threads wait on
  std::atomic<int> stopped{0};   // futex word the scanning thread waits on
  std::atomic<uint32_t> count{0};
  StoppedThread* threads = nullptr;
};
Session g_session;

long futex(std::atomic<int>* word, int op, int value, const struct timespec* timeout) {
  return syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
}

uint64_t monotonic_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

void on_stop_signal(int, siginfo_t*, void* context) {
  if (!g_session.active.load(std::memory_order_acquire)) return;  // a late delivery
  const int saved_errno = errno;
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  const uint32_t n = g_session.count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < n; ++i) {
    StoppedThread& t = g_session.threads[i];
    if (t.tid != tid || t.state.load(std::memory_order_acquire) != kSignalled) continue;
    const auto* uc = static_cast<const ucontext_t*>(context);
    for (int r = 0; r < kSavedRegisters; ++r)
      t.registers[r] = static_cast<uint64_t>(uc->uc_mcontext.gregs[r]);
    t.stack_pointer = static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_RSP]);
    t.state.store(kStopped, std::memory_order_release);
    g_session.stopped.fetch_add(1, std::memory_order_release);
    futex(&g_session.stopped, FUTEX_WAKE_PRIVATE, 1, nullptr);
    while (g_session.released.load(std::memory_order_acquire) == 0)
      futex(&g_session.released, FUTEX_WAIT_PRIVATE, 0, nullptr);
    t.state.store(kResumed, std::memory_order_release);
    break;
  }
  errno = saved_errno;
}

bool install_handler() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_sigaction = on_stop_signal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&action.sa_mask);
  // Left installed after the scan: a thread that never answered may still
  // take the signal later, and the default action would end the process.
  return real.sigaction(stop_signal(), &action, nullptr) == 0;
}

bool known(pid_t tid, pid_t skip_a, pid_t skip_b) {
  if (tid == skip_a || tid == skip_b) return true;
  const uint32_t n = g_session.count.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < n; ++i)
    if (g_session.threads[i].tid == tid) return true;
  return false;
}

// Signals the threads listed in /proc/self/task that are not signalled yet;
// returns how many it found.
int signal_new_threads(pid_t self, pid_t also_running) {
  const int fd = static_cast<int>(
      syscall(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd < 0) return -1;
  int found = 0;
  alignas(8) char buffer[4096];
  for (;;) {
    const long n = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
    if (n <= 0) break;
    for (long offset = 0; offset < n;) {
      const auto* entry = reinterpret_cast<const struct dirent64*>(buffer + offset);
      offset += entry->d_reclen;
      pid_t tid = 0;
      const char* name = entry->d_name;
      if (*name < '0' || *name > '9') continue;
      for (; *name >= '0' && *name <= '9'; ++name) tid = tid * 10 + (*name - '0');
      if (known(tid, self, also_running)) continue;
      const uint32_t slot = g_session.count.load(std::memory_order_relaxed);
      if (slot >= kMaxThreads) continue;
      StoppedThread& t = g_session.threads[slot];
      t.tid = tid;
      t.stack_pointer = 0;
      t.state.store(kSignalled, std::memory_order_relaxed);
      g_session.count.store(slot + 1, std::memory_order_release);
      if (syscall(SYS_tgkill, getpid(), tid, stop_signal()) != 0)
        t.state.store(kGone, std::memory_order_release);
      ++found;
    }
  }
  syscall(SYS_close, fd);
  return found;
}

}  // namespace

bool stop_the_world(pid_t also_running, int timeout_ms, WorldStopResult& result) {
  if (g_session.threads == nullptr) {
    g_session.threads =
        static_cast<StoppedThread*>(map_zeroed(sizeof(StoppedThread) * kMaxThreads));
    if (g_session.threads == nullptr) return false;
  }
  if (!install_handler()) return false;
  g_session.count.store(0, std::memory_order_relaxed);
  g_session.stopped.store(0, std::memory_order_relaxed);
  g_session.released.store(0, std::memory_order_relaxed);
  g_session.active.store(1, std::memory_order_release);
  const pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  // A thread may start threads until it is stopped: list again until a pass
  // finds none (a bounded number of times).
  for (int pass = 0; pass < 16; ++pass) {
    if (signal_new_threads(self, also_running) <= 0) break;
    const uint64_t settle_deadline = monotonic_ms() + 20;
    for (;;) {
      uint32_t waiting = 0;
      const uint32_t n = g_session.count.load(std::memory_order_relaxed);
      for (uint32_t i = 0; i < n; ++i)
        waiting += g_session.threads[i].state.load(std::memory_order_acquire) == kSignalled;
      if (waiting == 0 || monotonic_ms() >= settle_deadline) break;
      const int seen = g_session.stopped.load(std::memory_order_acquire);
      struct timespec pause = {0, 2 * 1000000L};
      futex(&g_session.stopped, FUTEX_WAIT_PRIVATE, seen, &pause);
    }
  }
  const uint64_t deadline = monotonic_ms() + uint64_t(timeout_ms);
  uint32_t waiting = 0;
  for (;;) {
    waiting = 0;
    const uint32_t n = g_session.count.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < n; ++i)
      waiting += g_session.threads[i].state.load(std::memory_order_acquire) == kSignalled;
    const uint64_t now = monotonic_ms();
    if (waiting == 0 || now >= deadline) break;
    const int seen = g_session.stopped.load(std::memory_order_acquire);
    struct timespec pause = {0, long(deadline - now < 5 ? deadline - now : 5) * 1000000L};
    futex(&g_session.stopped, FUTEX_WAIT_PRIVATE, seen, &pause);
  }
  result.threads = g_session.threads;
  result.count = g_session.count.load(std::memory_order_relaxed);
  result.stopped = 0;
  for (uint32_t i = 0; i < result.count; ++i)
    result.stopped += result.threads[i].state.load(std::memory_order_acquire) == kStopped;
  result.unresponsive = waiting;
  return true;
}

void resume_the_world(WorldStopResult& result) {
  g_session.released.store(1, std::memory_order_release);
  futex(&g_session.released, FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr);
  // Wait until the stopped threads left the handler, so that the session can
  // be reused; a thread that never answered may still run the handler later,
  // and returns at once because the session is no longer active.
  const uint64_t deadline = monotonic_ms() + 1000;
  for (uint32_t i = 0; i < result.count; ++i) {
    while (result.threads[i].state.load(std::memory_order_acquire) == kStopped &&
           monotonic_ms() < deadline) {
      struct timespec pause = {0, 100 * 1000};
      nanosleep(&pause, nullptr);
    }
  }
  g_session.active.store(0, std::memory_order_release);
}

}  // namespace memtide::agent
