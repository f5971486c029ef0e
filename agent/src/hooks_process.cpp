// Process-level events: exit paths (flush first), exec (flush, the new image
// traces itself), dlopen/dlclose (refresh the module map).
#include <dlfcn.h>
#include <stdarg.h>
#include <unistd.h>

#include <vector>

#include "agent_state.h"
#include "dlopen_search.h"
#include "fast_unwind.h"
#include "lifecycle.h"
#include "module_map.h"
#include "real_functions.h"
#include "writer.h"

using namespace memtide::agent;

namespace {

constexpr int kExecFlushTimeoutMs = 3000;

inline void ready() {
  if (!real_functions_ready()) resolve_real_functions();
}

void before_exec() {
  flush_writer("exec", 0, false, kExecFlushTimeoutMs);
}

std::vector<char*> collect_args(const char* first, va_list args, char*** envp) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(first));
  while (argv.back() != nullptr) argv.push_back(va_arg(args, char*));
  if (envp) *envp = va_arg(args, char**);
  return argv;
}

}  // namespace

extern "C" {

void exit(int status) {
  ready();
  exit_status_seen(status);
  real.exit(status);
  __builtin_unreachable();
}

void _exit(int status) {
  ready();
  finish_agent("_exit", status, true);
  real._exit(status);
  __builtin_unreachable();
}

void _Exit(int status) {
  ready();
  finish_agent("_exit", status, true);
  real._Exit(status);
  __builtin_unreachable();
}

int execve(const char* path, char* const argv[], char* const envp[]) {
  ready();
  before_exec();
  return real.execve(path, argv, envp);
}

int execvpe(const char* file, char* const argv[], char* const envp[]) {
  ready();
  before_exec();
  return real.execvpe(file, argv, envp);
}

int fexecve(int fd, char* const argv[], char* const envp[]) {
  ready();
  before_exec();
  return real.fexecve(fd, argv, envp);
}

int execv(const char* path, char* const argv[]) {
  return execve(path, argv, environ);
}

int execvp(const char* file, char* const argv[]) {
  return execvpe(file, argv, environ);
}

int execl(const char* path, const char* arg, ...) {
  va_list args;
  va_start(args, arg);
  std::vector<char*> argv = collect_args(arg, args, nullptr);
  va_end(args);
  return execve(path, argv.data(), environ);
}

int execlp(const char* file, const char* arg, ...) {
  va_list args;
  va_start(args, arg);
  std::vector<char*> argv = collect_args(arg, args, nullptr);
  va_end(args);
  return execvpe(file, argv.data(), environ);
}

int execle(const char* path, const char* arg, ...) {
  va_list args;
  va_start(args, arg);
  char** envp = nullptr;
  std::vector<char*> argv = collect_args(arg, args, &envp);
  va_end(args);
  return execve(path, argv.data(), envp);
}

void* dlopen(const char* file, int mode) {
  ready();
  // A file the program already loaded is found by its name; otherwise search
  // the caller's RPATH/RUNPATH, which libc would take from memtide instead.
  char path[4096];
  const bool loaded = file != nullptr && [&] {
    void* h = real.dlopen(file, RTLD_LAZY | RTLD_NOLOAD);
    if (h != nullptr)
      real.dlclose(h);
    else
      dlerror();  // the program's dlerror() must not see this probe
    return h != nullptr;
  }();
  const char* target =
      !loaded && find_in_caller_paths(file, __builtin_return_address(0), path, sizeof path) ? path
                                                                                            : file;
  void* handle = real.dlopen(target, mode);
  if (handle != nullptr && phase() != Phase::kFinished) refresh_modules();
  return handle;
}

int dlclose(void* handle) {
  ready();
  int rc = real.dlclose(handle);
  // Code at the unloaded addresses may be replaced: its cached frame rules go.
  if (rc == 0) forget_frame_rules();
  if (rc == 0 && phase() != Phase::kFinished) refresh_modules();
  return rc;
}

}  // extern "C"
