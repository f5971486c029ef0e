/* A library, loaded with dlopen by leaks.c, that keeps one block in its own
 * global (still reachable while it stays loaded) and drops another. */
#include <stdlib.h>
#include <string.h>

static void* g_library_holds;

__attribute__((noinline)) void leak_lib_keep(size_t n) {
  g_library_holds = malloc(n);
  memset(g_library_holds, 0, n);
}

__attribute__((noinline)) void leak_lib_drop(size_t n) {
  void* volatile p = malloc(n);
  memset(p, 0, n);
  p = NULL;
}
