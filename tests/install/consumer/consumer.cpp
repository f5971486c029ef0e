// An engine that annotates itself with the installed header.
#include <memtide/annotate.h>

#include <cstdio>
#include <cstdlib>

int main() {
  memtide_step_begin(1);
  MEMTIDE_SCOPE("consumer/forward");
  void* block = std::malloc(4096);
  std::printf("active=%d\n", memtide_active());
  std::free(block);
  return 0;
}
