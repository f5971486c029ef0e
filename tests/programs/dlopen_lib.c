#include <stdlib.h>

__attribute__((noinline)) void* dl_allocate(size_t n) {
  return malloc(n);
}
