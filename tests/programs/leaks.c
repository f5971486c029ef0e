/* Programs with known leaks for the exit leak scan, one per mode (argv[1]).
 * Each size is unique so that a test can find its blocks in leak_scan.
 * Leaking functions are separate frames, and clobber_stack() overwrites the
 * dead stack below main afterwards, so no stale copy of a dropped pointer
 * survives on the stack (as in LeakSanitizer's own tests). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
  struct node* left;
  struct node* right;
  char payload[40];
};

static void* g_global_holder;
/* 4 MiB of initialised, writable data: file-backed pages the program never
   touches but one (mode "sparse-data"). */
static uintptr_t g_sparse_data[1 << 19] = {1};
static char* g_interior;
static void* volatile g_sink;
static volatile int g_stop_workers;

__attribute__((noinline)) static void clobber_stack(void) {
  volatile char junk[256 * 1024];
  memset((char*)junk, 0, sizeof junk);
}

__attribute__((noinline)) static void drop(size_t n) {
  void* volatile p = malloc(n);
  memset(p, 1, n);
  p = NULL;
}

__attribute__((noinline)) static struct node* new_node(size_t extra) {
  struct node* n = malloc(sizeof(struct node) + extra);
  memset(n, 0, sizeof(struct node) + extra);
  return n;
}

/* root (+1) -> a (+2) -> c (+4), root -> b (+3); the root pointer is dropped. */
__attribute__((noinline)) static void lose_tree(void) {
  struct node* volatile root = new_node(1);
  root->left = new_node(2);
  root->right = new_node(3);
  root->left->left = new_node(4);
  root = NULL;
}

/* x (+5) -> y (+6) -> z (+7) -> x, nothing else points into the cycle. */
__attribute__((noinline)) static void lose_cycle(void) {
  struct node* volatile x = new_node(5);
  x->left = new_node(6);
  x->left->left = new_node(7);
  x->left->left->left = x;
  x = NULL;
}

__attribute__((noinline)) static void keep_in_global(void) {
  g_global_holder = malloc(5003);
  memset(g_global_holder, 0, 5003);
}

/* The only pointer to the block sits in one page in the middle of data the
   program otherwise never touched: the scan reads that page (and finds the
   block) but not the untouched rest. */
__attribute__((noinline)) static void keep_in_sparse_data(void) {
  void* p = malloc(5005);
  memset(p, 0, 5005);
  g_sparse_data[(1 << 18) + 7] = (uintptr_t)p;
}

__attribute__((noinline)) static void keep_interior_only(void) {
  char* p = malloc(6007);
  memset(p, 0, 6007);
  g_interior = p + 100;
}

static void* thread_that_leaks(void* arg) {
  (void)arg;
  drop(7001);
  clobber_stack();
  return NULL;
}

__attribute__((noinline)) static void leak_in_exited_thread(void) {
  pthread_t t;
  pthread_create(&t, NULL, thread_that_leaks, NULL);
  pthread_join(t, NULL);
}

__attribute__((noinline)) static int leak_in_library(const char* path) {
  void* lib = dlopen(path, RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "%s\n", dlerror());
    return 3;
  }
  void (*keep)(size_t) = (void (*)(size_t))dlsym(lib, "leak_lib_keep");
  void (*lose)(size_t) = (void (*)(size_t))dlsym(lib, "leak_lib_drop");
  keep(8009);
  lose(8011);
  return 0; /* the library stays loaded: its global is a root */
}

/* Grown by realloc (moving it), then dropped: the lost block has the new size. */
__attribute__((noinline)) static void leak_through_realloc(void) {
  void* volatile p = malloc(16);
  void* volatile blocker = malloc(16); /* keeps the block from growing in place */
  p = realloc(p, 9013);
  memset(p, 0, 9013);
  p = NULL;
  free(blocker);
}

/* A million allocations; 1000 of them (sizes 1000 + i % 7) are dropped, the
 * rest freed. */
__attribute__((noinline)) static void million(void) {
  enum { kTotal = 1000000, kEvery = 1000 };
  void** blocks = malloc(sizeof(void*) * kTotal);
  for (int i = 0; i < kTotal; ++i) {
    size_t size = (i % kEvery == 0) ? 1000 + (size_t)(i / kEvery) % 7 : 16 + (size_t)(i % 64);
    blocks[i] = malloc(size);
    memset(blocks[i], 0, size < 16 ? size : 16);
  }
  for (int i = 0; i < kTotal; ++i)
    if (i % kEvery != 0) free(blocks[i]);
  memset(blocks, 0, sizeof(void*) * kTotal);
  free(blocks);
}

static void* busy_worker(void* arg) {
  /* Holds a block in a local while it churns: reachable from its stack. */
  void* volatile mine = malloc((size_t)(uintptr_t)arg);
  memset(mine, 0, (size_t)(uintptr_t)arg);
  while (!g_stop_workers) {
    void* p = malloc(64);
    g_sink = p;
    free(p);
  }
  return (void*)mine;
}

static void* exiting_thread(void* arg) {
  (void)arg;
  drop(10007);
  clobber_stack();
  usleep(20000);
  exit(0);
}

static void* masked_thread(void* arg) {
  (void)arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, NULL);
  void* volatile mine = malloc(12011);
  memset(mine, 0, 12011);
  for (;;) pause();
  return NULL;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  int rc = 0;
  if (!strcmp(mode, "dropped"))
    drop(4001);
  else if (!strcmp(mode, "tree"))
    lose_tree();
  else if (!strcmp(mode, "cycle"))
    lose_cycle();
  else if (!strcmp(mode, "global"))
    keep_in_global();
  else if (!strcmp(mode, "interior"))
    keep_interior_only();
  else if (!strcmp(mode, "sparse-data"))
    keep_in_sparse_data();
  else if (!strcmp(mode, "thread"))
    leak_in_exited_thread();
  else if (!strcmp(mode, "dlopen"))
    rc = leak_in_library(argc > 2 ? argv[2] : "");
  else if (!strcmp(mode, "realloc"))
    leak_through_realloc();
  else if (!strcmp(mode, "million"))
    million();
  else if (!strcmp(mode, "exit-from-thread")) {
    pthread_t workers[2], leaver;
    pthread_create(&workers[0], NULL, busy_worker, (void*)(uintptr_t)10009);
    pthread_create(&workers[1], NULL, busy_worker, (void*)(uintptr_t)10009);
    usleep(20000);
    pthread_create(&leaver, NULL, exiting_thread, NULL);
    for (;;) pause();
  } else if (!strcmp(mode, "masked")) {
    pthread_t t;
    pthread_create(&t, NULL, masked_thread, NULL);
    usleep(20000);
    drop(12007);
  } else if (!strcmp(mode, "wait")) {
    drop(11003);
    keep_in_global();
    clobber_stack();
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
  } else {
    return 2;
  }
  clobber_stack();
  return rc;
}
