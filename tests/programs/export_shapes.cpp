// Known stacks, scopes, steps and marks for `memtide export`: every number
// the export tests expect is written here. Three training steps under the
// scopes model/layer1/{forward,backward}; a loader thread with a scope and a
// mark of its own. With the argument `hostile`, the scope and mark names
// hold what breaks naive writers of folded stacks and JSON.
#include <memtide/annotate.h>

#include <cstdlib>
#include <cstring>
#include <thread>

volatile void* g_keep;

// Kept to the end: 4096 bytes never freed.
__attribute__((noinline)) void* alloc_weights() {
  return std::malloc(4096);
}
// 10000 bytes per step, freed at the end of the step.
__attribute__((noinline)) void* alloc_activation() {
  return std::malloc(10000);
}
// 3000 bytes per step, freed inside the step: live at the peak with one
// activation and the weights.
__attribute__((noinline)) void* alloc_gradient() {
  return std::malloc(3000);
}
// 2000 bytes after the last step, never freed (below the peak).
__attribute__((noinline)) void* alloc_late() {
  return std::malloc(2000);
}
// 500 bytes in the loader thread, freed there.
__attribute__((noinline)) void* alloc_batch() {
  return std::malloc(500);
}

int main(int argc, char** argv) {
  const bool hostile = argc > 1 && std::strcmp(argv[1], "hostile") == 0;
  const char* model = hostile ? "model;with;semicolons" : "model";
  const char* layer = hostile ? "layer\n1 \"quoted\" \\ back\\slash" : "layer1";
  const char* forward = hostile ? "<script>alert('forward')</script>" : "forward";
  const char* backward = hostile ? "back\xff\xfeward\t&amp;" : "backward";
  const char* mark = hostile ? "batch;\n\"ready\"</script>" : "batch ready";

  std::thread loader([&] {
    memtide::Scope scope("loader");
    std::free(alloc_batch());
    memtide_marker(mark);
  });
  loader.join();

  void* weights;
  {
    memtide::Scope scope(model);
    weights = alloc_weights();
  }
  for (int step = 0; step < 3; ++step) {
    memtide_step_begin(step);
    memtide::Scope model_scope(model);
    memtide::Scope layer_scope(layer);
    void* activation;
    {
      memtide::Scope scope(forward);
      activation = alloc_activation();
    }
    {
      memtide::Scope scope(backward);
      void* gradient = alloc_gradient();
      std::free(gradient);
    }
    std::free(activation);
  }
  g_keep = alloc_late();
  g_keep = weights;
  return memtide_active() ? 0 : 3;
}
