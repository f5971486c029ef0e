/* Mappings with partial unmaps and a moving mremap. Prints the addresses. */
#define _GNU_SOURCE
#include <memtide/annotate.h>
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
  const size_t page = 4096;
  memtide_marker("begin");
  char* p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 3;
  munmap(p + page, page);
  munmap(p, page);
  munmap(p + 2 * page, 2 * page);
  char* q = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* r = mremap(q, 2 * page, 64 * page, MREMAP_MAYMOVE);
  if (r == MAP_FAILED) return 3;
  munmap(r, 64 * page);
  memtide_marker("end");
  printf("%p %p %p\n", (void*)p, (void*)q, (void*)r);
  return 0;
}
