/* A library that dlopens a sibling by name, relying on its own RUNPATH
   ($ORIGIN/runpath), as cuDNN and CUDA libraries do for their parts. */
#include <dlfcn.h>
#include <stdio.h>

int open_sibling_by_name(void) {
  void* sibling = dlopen("libtest_runpath_target.so", RTLD_NOW);
  if (sibling == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return -1;
  }
  int (*answer)(void) = (int (*)(void))dlsym(sibling, "runpath_target_answer");
  return answer ? answer() : -1;
}
