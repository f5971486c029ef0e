/* 8 threads allocate and free concurrently inside a "worker" scope; each
 * keeps 5 blocks alive when it exits. Sizes identify the thread. */
#define _GNU_SOURCE
#include <memtide/annotate.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { kThreads = 8, kRounds = 20000, kKept = 5 };

static void* worker(void* arg) {
  intptr_t t = (intptr_t)arg;
  char name[16];
  snprintf(name, sizeof name, "worker-%d", (int)t);
  pthread_setname_np(pthread_self(), name);
  memtide_scope_enter("worker");
  for (int i = 0; i < kRounds; ++i) {
    void* p = malloc(1000 + t);
    free(p);
  }
  for (int i = 0; i < kKept; ++i) (void)malloc(3000 + t); /* live at thread exit */
  memtide_scope_leave();
  return NULL;
}

/* Allocates (its first event), renames itself, and is still running when the
 * process exits: its row must carry the new name and no end time. */
static void* late_renamer(void* arg) {
  (void)arg;
  free(malloc(77));
  pthread_setname_np(pthread_self(), "sleeper-late");
  for (;;) pause();
  return NULL;
}

int main(void) {
  pthread_t sleeper;
  pthread_create(&sleeper, NULL, late_renamer, NULL);
  pthread_t threads[kThreads];
  for (intptr_t t = 0; t < kThreads; ++t) pthread_create(&threads[t], NULL, worker, (void*)t);
  for (int t = 0; t < kThreads; ++t) pthread_join(threads[t], NULL);
  usleep(20000); /* let the sleeper rename itself */
  return 0;
}
