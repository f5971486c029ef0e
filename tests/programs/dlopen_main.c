/* dlopen a library that allocates, then dlclose it. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  void* lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "%s\n", dlerror());
    return 3;
  }
  void* (*allocate)(size_t) = (void* (*)(size_t))dlsym(lib, "dl_allocate");
  void* p = allocate(4321);
  free(p);
  return dlclose(lib) == 0 ? 0 : 4;
}
