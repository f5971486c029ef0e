// Scopes, steps, marks and a pool through memtide/annotate.h.
#include <memtide/annotate.h>

#include <cstdlib>

int main() {
  static char arena[4096];
  for (int step = 1; step <= 2; ++step) {
    memtide_step_begin(step);
    MEMTIDE_SCOPE("layer1");
    std::free(std::malloc(1111));
    {
      MEMTIDE_SCOPE("forward");
      std::free(std::malloc(2222));
    }
  }
  std::free(std::malloc(3333));  // outside every scope
  memtide_pool_created(arena, "arena");
  {
    MEMTIDE_SCOPE("layer2");
    memtide_pool_allocated(arena, arena + 0, 100);
    memtide_pool_allocated(arena, arena + 128, 200);
  }
  memtide_pool_freed(arena, arena + 0);
  memtide_pool_destroyed(arena);
  return memtide_active() ? 0 : 3;
}
