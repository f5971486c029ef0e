#include "lifecycle.h"

#include "fast_unwind.h"

#if MEMTIDE_GPU_TRACKING
#include "gpu/gpu_recorder.h"
#include "gpu/gpu_tracking.h"
#endif

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

#include "agent_state.h"
#include "leak_scan.h"
#include "module_map.h"
#include "name_tables.h"
#include "real_functions.h"
#include "recorder.h"
#include "signal_chain.h"
#include "stack_table.h"
#include "thread_ring.h"
#include "writer.h"

namespace memtide::agent {
namespace {

std::atomic<int> g_start_state{0};  // 0 = not started, 1 = starting, 2 = started
pthread_key_t g_thread_exit_key;
std::atomic<bool> g_thread_exit_key_ready{false};
std::string* g_trace_path = nullptr;
char g_library_path[4096];

constexpr const char* kClaimedEnv = "MEMTIDE_ROOT_CLAIMED";
constexpr const char* kParentTraceEnv = "MEMTIDE_PARENT_TRACE";
constexpr const char* kParentPidEnv = "MEMTIDE_PARENT_PID";

std::string read_command_line() {
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) text.append(buffer, n);
  close(fd);
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text)
    if (c == '\0') c = ' ';
  return text;
}

std::string executable_path() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, n) : std::string();
}

std::string stem_of(const std::string& output) {
  if (output.size() > 3 && output.compare(output.size() - 3, 3, ".db") == 0)
    return output.substr(0, output.size() - 3);
  return output;
}

// A path of its own for a process that is not the first: <stem>.<pid>.db, or
// <stem>.<pid>.<n>.db when an earlier image of the same pid (before an exec)
// already wrote one.
std::string secondary_trace_path(pid_t pid) {
  const std::string stem = stem_of(options().output) + "." + std::to_string(pid);
  for (int n = 1;; ++n) {
    std::string path = n == 1 ? stem + ".db" : stem + "." + std::to_string(n) + ".db";
    int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0) {
      close(fd);
      return path;
    }
    if (errno != EEXIST || n > 1000) return path;
  }
}

// Removes libmemtide from LD_PRELOAD so exec'd programs run untraced.
void stop_following_exec() {
  const char* preload = getenv("LD_PRELOAD");
  if (preload == nullptr) return;
  std::string kept;
  std::string list = preload;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find_first_of(": ", start);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(start, end - start);
    if (!item.empty() && item.find("libmemtide") == std::string::npos)
      kept += (kept.empty() ? "" : ":") + item;
    start = end + 1;
  }
  if (kept.empty())
    unsetenv("LD_PRELOAD");
  else
    setenv("LD_PRELOAD", kept.c_str(), 1);
}

void on_thread_exit(void*) {
  ThreadState& state = thread_state();
  // Run in the last round of key destructors, so that other keys' destructors
  // that free memory are still recorded as this thread's.
  if (++state.exit_iterations < PTHREAD_DESTRUCTOR_ITERATIONS) {
    pthread_setspecific(g_thread_exit_key, reinterpret_cast<void*>(1));
    return;
  }
  if (options().leak_scan) {
    Guard guard;
    note_thread_stack_retired();
  }
  retire_current_thread();
}

// The writer's lock comes first: the writer interns stacks while it holds
// it, so it takes the stack table's lock inside the writer's.
void prepare_fork() {
  ++thread_state().guard;
  writer_lock_for_fork();
  name_tables().lock_for_fork();
  stack_table().lock_for_fork();
  frame_rules_lock_for_fork();
}

void parent_after_fork() {
  frame_rules_unlock_after_fork();
  stack_table().unlock_after_fork();
  name_tables().unlock_after_fork();
  writer_unlock_after_fork();
  --thread_state().guard;
}

void child_after_fork() {
  name_tables().reset_lock_in_child();
  stack_table().reset_lock_in_child();
  frame_rules_reset_in_child();
#if MEMTIDE_GPU_TRACKING
  gpu::after_fork_in_child();
#endif
  writer_forget_in_child();
  ThreadState& state = thread_state();
  // The child inherits the parent's live set; what the parent's writer has
  // not drained yet is in the rings, which are emptied below.
  if (options().leak_scan) absorb_ring_events_into_live_set();
  reset_rings_in_child(state.ring);
  if (state.ring) state.ring->thread_id = next_thread_id();
  if (phase() == Phase::kRecording && g_trace_path != nullptr) {
    ProcessIdentity identity;
    identity.pid = getpid();
    identity.parent_pid = getppid();
    identity.parent_trace = *g_trace_path;
    identity.origin = "fork";
    identity.trace_path = secondary_trace_path(identity.pid);
    identity.command_line = read_command_line();
    identity.executable = executable_path();
    identity.start_time_ns = now_ns();
    *g_trace_path = identity.trace_path;
    setenv(kParentTraceEnv, identity.trace_path.c_str(), 1);
    setenv(kParentPidEnv, std::to_string(identity.pid).c_str(), 1);
    std::string error;
    if (!start_writer(identity, error)) {
      fprintf(stderr, "memtide: %s; process %d is not traced\n", error.c_str(), identity.pid);
      set_phase(Phase::kFinished);
    }
  }
  --state.guard;
}

// The exiting thread waits in here while the writer scans for leaks: the
// callee-saved registers are spilled into this frame, above the recorded
// stack pointer, so the scan reads what the thread's callers held in them.
__attribute__((noinline)) void stop_writer_as_exiting_thread(const char* end_reason,
                                                             int exit_status, bool has_status) {
  __builtin_unwind_init();
  uint64_t stack_pointer;
  __asm__ volatile("mov %%rsp, %0" : "=r"(stack_pointer));
  note_exiting_thread(stack_pointer, nullptr);
  stop_writer(end_reason, exit_status, has_status);
  __asm__ volatile("" ::: "memory");  // no tail call: the frame stays until the scan is over
}

}  // namespace

namespace {
std::atomic<bool> g_has_exit_status{false};
std::atomic<int> g_exit_status{0};
}  // namespace

void exit_status_seen(int status) {
  g_exit_status.store(status);
  g_has_exit_status.store(true);
}

void register_thread_exit_handler() {
  if (g_thread_exit_key_ready.load(std::memory_order_acquire))
    pthread_setspecific(g_thread_exit_key, reinterpret_cast<void*>(1));
}

void start_writer_early() {
  start_agent();
}

void start_agent() {
  int expected = 0;
  if (!g_start_state.compare_exchange_strong(expected, 1)) return;
  Guard guard;
  resolve_real_functions();
  ensure_options();
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&start_agent), &self) && self.dli_fname)
    strncpy(g_library_path, self.dli_fname, sizeof(g_library_path) - 1);

  if (pthread_key_create(&g_thread_exit_key, on_thread_exit) == 0)
    g_thread_exit_key_ready.store(true, std::memory_order_release);
  register_thread_exit_handler();
  init_stack_capture();

  ProcessIdentity identity;
  identity.pid = getpid();
  identity.command_line = read_command_line();
  identity.executable = executable_path();
  identity.start_time_ns = now_ns();
  const char* claimed = getenv(kClaimedEnv);
  if (claimed == nullptr || std::strcmp(claimed, "1") != 0) {
    identity.origin = "root";
    identity.trace_path = options().output;
    setenv(kClaimedEnv, "1", 1);
  } else {
    identity.origin = "exec";
    identity.trace_path = secondary_trace_path(identity.pid);
    if (const char* parent = getenv(kParentTraceEnv)) identity.parent_trace = parent;
    if (const char* parent_pid = getenv(kParentPidEnv)) identity.parent_pid = atoi(parent_pid);
  }
  setenv(kParentTraceEnv, identity.trace_path.c_str(), 1);
  setenv(kParentPidEnv, std::to_string(identity.pid).c_str(), 1);
  if (!options().follow) stop_following_exec();
  if (options().nvtx && getenv("NVTX_INJECTION64_PATH") == nullptr && g_library_path[0])
    setenv("NVTX_INJECTION64_PATH", g_library_path, 1);
#if MEMTIDE_GPU_TRACKING
  gpu::start_gpu_tracking(g_library_path);
#endif
  g_trace_path = new std::string(identity.trace_path);

  refresh_modules();
  std::string error;
  if (!start_writer(identity, error)) {
    fprintf(stderr, "memtide: %s; this process is not traced\n", error.c_str());
    set_phase(Phase::kFinished);
    g_start_state.store(2);
    return;
  }
  install_signal_handlers();
  pthread_atfork(prepare_fork, parent_after_fork, child_after_fork);
  set_phase(Phase::kRecording);
  if (!options().quiet)
    fprintf(stderr, "memtide: tracing process %d into %s\n", identity.pid,
            identity.trace_path.c_str());
  g_start_state.store(2);
}

void finish_agent(const char* end_reason, int exit_status, bool has_status) {
  if (phase() != Phase::kRecording || !writer_owned_by_this_process()) return;
  if (!has_status && g_has_exit_status.load()) {
    exit_status = g_exit_status.load();
    has_status = true;
  }
#if MEMTIDE_GPU_TRACKING
  gpu::finish_gpu_tracking();  // CUPTI's buffered records, while recording is still on
#endif
  {
    Guard guard;
    retire_current_thread();
    // With the leak scan, other threads record until the writer stops them,
    // so the live set is exact at the scan; the writer ends recording then.
    if (!options().leak_scan) set_phase(Phase::kFinished);
    stop_writer_as_exiting_thread(end_reason, exit_status, has_status);
    set_phase(Phase::kFinished);
  }
}

}  // namespace memtide::agent

// Runs before the program's constructors (it is preloaded) and after libc's.
__attribute__((constructor(101))) static void memtide_constructor() {
  memtide::agent::start_agent();
}

// The final flush runs as libmemtide's own finalizer: after every atexit
// handler and static destructor of the program, so their frees are recorded.
__attribute__((destructor(101))) static void memtide_destructor() {
  memtide::agent::finish_agent(nullptr, 0, false);
}
