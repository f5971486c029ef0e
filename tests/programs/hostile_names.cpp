// A training loop whose scope and function names are HTML: the report built
// from its traces must show them as text. Leaks one block per step inside
// the hostile scope (definitely lost, growing), and forks a child that leaks
// once, so the report covers two processes.
#include <memtide/annotate.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

struct script {};

volatile void* g_sink;

template <class T>
__attribute__((noinline)) void leak_into(size_t bytes) {
  g_sink = std::malloc(bytes);
  g_sink = nullptr;
}

int main() {
  for (int step = 0; step < 6; ++step) {
    memtide_step_begin(step);
    memtide::Scope train("train");
    memtide::Scope hostile("<script>document.documentElement.dataset.pwned='scope'</script>");
    leak_into<script>(1000);
  }
  const pid_t child = fork();
  if (child == 0) {
    leak_into<script>(3000);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
