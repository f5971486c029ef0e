/* Forks while another thread allocates with ever new stacks (so it holds the
 * agent's stack-table lock often): no child may deadlock. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int g_stop;

/* Two call sites per level for the first ten levels: about 24k distinct
 * stacks, so new stacks keep being inserted while the program forks. */
__attribute__((noinline)) static void recurse(int depth, int salt) {
  if (depth == 0) {
    free(malloc(16 + salt % 64));
    return;
  }
  if (depth < 10 && (salt & 1))
    recurse(depth - 1, salt >> 1);
  else
    recurse(depth - 1, salt >> 1);
}

static void* churn(void* arg) {
  (void)arg;
  for (int i = 0; !atomic_load(&g_stop); ++i) recurse(i % 24, i);
  return NULL;
}

int main(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, churn, NULL);
  int failures = 0;
  for (int i = 0; i < 30; ++i) {
    pid_t child = fork();
    if (child == 0) {
      free(malloc(555));
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  atomic_store(&g_stop, 1);
  pthread_join(thread, NULL);
  return failures;
}
