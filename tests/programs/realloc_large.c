/* realloc of blocks large enough to be their own mappings: when such a block
 * moves, its old mapping is gone by the time realloc returns. */
#include <memtide/annotate.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  memtide_marker("begin");
  char* p = malloc(1 << 20); /* above the mmap threshold */
  memset(p, 1, 1 << 20);
  char* q = realloc(p, 64u << 20); /* grows; may move */
  char* r = realloc(q, 100);       /* shrinks a mapped chunk into the heap: moves */
  if (r == NULL || r[99] != 1) return 3;
  char* s = realloc(r, 256u << 20); /* a small block to a large mapping: moves */
  free(s);
  memtide_marker("end");
  return 0;
}
