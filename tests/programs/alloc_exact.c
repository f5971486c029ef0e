/* Exactly these heap calls between the "begin" and "end" marks, nothing else. */
#include <errno.h>
#include <malloc.h>
#include <memtide/annotate.h>
#include <stdint.h>
#include <stdlib.h>

__attribute__((noinline)) void* make_block(size_t n) {
  return malloc(n);
}

int main(void) {
  memtide_marker("begin");
  void* a = make_block(100);
  void* b = calloc(10, 20);
  void* c = malloc(200);
  void* fence = malloc(64);   /* keeps c from growing in place */
  void* c2 = realloc(c, 100); /* shrinking stays in place */
  if (c2 != c) return 3;
  void* c3 = realloc(c2, 100000); /* must move: its neighbour is in use */
  if (c3 == c2) return 3;
  void* d = realloc(NULL, 300);
  void* e = reallocarray(NULL, 5, 8);
  void* f = NULL;
  if (posix_memalign(&f, 64, 1000) != 0) return 3;
  void* g = aligned_alloc(128, 1024);
  void* h = memalign(32, 300);
  void* i = valloc(5000);
  void* j = pvalloc(5000);
  errno = 0;
  /* volatile: the compiler must not see (and warn about) the overflow */
  volatile size_t huge = SIZE_MAX / 2;
  void* overflow = calloc(huge, 4);
  if (overflow != NULL || errno != ENOMEM) return 4;
  void* gone = realloc(d, 0); /* frees d */
  if (gone != NULL) return 3;
  free(a);
  free(b);
  free(c3);
  free(fence);
  free(e);
  free(f);
  free(g);
  free(h);
  free(i);
  free(j);
  free(NULL);
  memtide_marker("end");
  return 0;
}
