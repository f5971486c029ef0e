// A hand-computed schedule of allocations in scopes for `memtide layers`,
// `peak` and `top` (tests/integration/layers_test.cpp holds the expected
// numbers): nested scopes, blocks that outlive their scope, a pool carved
// from a malloc'd arena, two steps, one temporary and blocks that are not.
#include <memtide/annotate.h>
#include <unistd.h>

#include <cstdlib>

namespace {

// Each allocation site is a function of its own, so its stack names it.
__attribute__((noinline)) void* allocate_config() {
  return std::malloc(128);
}
__attribute__((noinline)) void* allocate_arena() {
  return std::malloc(65536);
}
__attribute__((noinline)) void* allocate_activation() {
  return std::malloc(1000);
}
__attribute__((noinline)) void make_temporary() {
  std::free(std::malloc(300));
}
__attribute__((noinline)) void* allocate_weight() {
  return std::malloc(200);
}
__attribute__((noinline)) void* allocate_gradient(size_t bytes) {
  return std::malloc(bytes);
}
__attribute__((noinline)) void* allocate_kept() {
  return std::malloc(64);
}
__attribute__((noinline)) void* allocate_big() {
  return std::malloc(1 << 20);
}
__attribute__((noinline)) void* allocate_state() {
  return std::malloc(500);
}

}  // namespace

int main() {
  static int pool;  // the pool's handle
  void* config;
  char* arena;
  {
    MEMTIDE_SCOPE("setup");
    config = allocate_config();
    arena = static_cast<char*>(allocate_arena());
    memtide_pool_created(&pool, "test.arena");
  }

  memtide_step_begin(0);
  void* activation;
  char* pooled = arena + 1024;
  {
    MEMTIDE_SCOPE("model.layers.0/forward");
    activation = allocate_activation();  // kept for backward
    void* weight;
    {
      MEMTIDE_SCOPE("matmul");
      make_temporary();
      weight = allocate_weight();  // outlives matmul, freed in forward
      memtide_pool_allocated(&pool, pooled, 4096);
    }
    std::free(weight);
  }
  {
    MEMTIDE_SCOPE("model.layers.0/backward");
    usleep(3000);  // the activation lives at least 3 ms
    std::free(activation);
    memtide_pool_freed(&pool, pooled);
    void* g = allocate_gradient(400);
    void* h = allocate_gradient(100);  // neither is a temporary: another call between
    std::free(g);
    std::free(h);
  }
  void* kept = allocate_kept();  // live when step 0 ends

  memtide_step_begin(1);
  std::free(kept);
  void* big;
  {
    MEMTIDE_SCOPE("model.layers.0/forward");
    big = allocate_big();  // the peak
  }
  std::free(big);
  {
    MEMTIDE_SCOPE("optimizer/step");
    allocate_state();  // never freed
  }
  memtide_pool_destroyed(&pool);
  std::free(arena);
  std::free(config);
  return memtide_active() ? 0 : 3;
}
