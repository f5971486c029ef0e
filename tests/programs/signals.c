/* Signal and exit paths, one per mode (argv[1]). Modes that wait print
 * "ready" once their allocations are done. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void* volatile g_keep;

__attribute__((noinline)) static void on_usr1(int sig) {
  (void)sig;
  g_keep = malloc(4242);
}

static void on_term(int sig) {
  (void)sig;
  static const char message[] = "got term\n";
  write(1, message, sizeof message - 1);
  exit(7);
}

static void allocate(size_t size, int count) {
  for (int i = 0; i < count; ++i) g_keep = malloc(size);
}

/* write(), not printf: the test signals as soon as it reads the line, and a
 * handler that calls exit() while fflush has written but not yet emptied
 * stdout's buffer would print the line twice. */
static void ready_and_wait(void) {
  static const char message[] = "ready\n";
  write(1, message, sizeof message - 1);
  for (;;) pause();
}

static void* exit_from_thread(void* arg) {
  (void)arg;
  malloc(9191);
  exit(9);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "usr1")) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    return g_keep ? 0 : 3;
  }
  if (!strcmp(mode, "term-default")) {
    allocate(5151, 10);
    ready_and_wait();
  }
  if (!strcmp(mode, "term-handler")) {
    signal(SIGTERM, on_term);
    allocate(5252, 10);
    ready_and_wait();
  }
  if (!strcmp(mode, "kill")) {
    allocate(6161, 1000);
    ready_and_wait();
  }
  if (!strcmp(mode, "abort")) {
    allocate(7171, 3);
    abort();
  }
  if (!strcmp(mode, "_exit")) {
    allocate(8181, 3);
    _exit(5);
  }
  if (!strcmp(mode, "thread-exit")) {
    pthread_t thread;
    pthread_create(&thread, NULL, exit_from_thread, NULL);
    for (;;) pause();
  }
  return 2;
}
