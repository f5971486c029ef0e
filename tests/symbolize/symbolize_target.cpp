// Allocates from a plain function, from a function inlined into another and
// from a member of a class template in a namespace, each with its own size,
// so the symbolize tests can find each allocation's stack. Built with -O2 -g:
// the stacks are those of optimised code. The tests read the `LINE:` markers
// to know which line each frame must name.
#include <cstdio>
#include <cstdlib>
#include <cstring>

// noipa (GCC) also forbids the clones (".constprop") that constant
// propagation would make of a noinline function.
#if defined(__clang__)
#define KEEP_AS_CALLED __attribute__((noinline))
#else
#define KEEP_AS_CALLED __attribute__((noipa))
#endif

namespace memtide_sym {

template <typename T>
struct Matrix {
  T* data = nullptr;
  unsigned long size = 0;
  void grow(unsigned long elements);
};

template <typename T>
KEEP_AS_CALLED void Matrix<T>::grow(unsigned long elements) {
  T* bigger = new T[elements];  // LINE:template_alloc
  if (data) std::memcpy(bigger, data, size * sizeof(T));
  data = bigger;
  size = elements;
}

template struct Matrix<float>;

}  // namespace memtide_sym

// Keeps every block alive and stops the compiler turning a call that
// allocates into a tail call, which would take its caller off the stack.
void* volatile g_kept[3];

KEEP_AS_CALLED void plain_alloc(unsigned long bytes) {
  g_kept[0] = malloc(bytes);  // LINE:plain_alloc
}

__attribute__((always_inline)) inline void inlined_alloc(unsigned long bytes) {
  g_kept[1] = malloc(bytes);  // LINE:inlined_alloc
}

KEEP_AS_CALLED void inlining_caller(unsigned long bytes) {
  inlined_alloc(bytes + 1);  // LINE:inlined_call
  asm volatile("" ::: "memory");
}

int main() {
  plain_alloc(10001);  // LINE:main_plain
  asm volatile("" ::: "memory");
  inlining_caller(10001);  // LINE:main_inlining
  asm volatile("" ::: "memory");
  static memtide_sym::Matrix<float> matrix;
  matrix.grow(2501);  // LINE:main_template
  asm volatile("" ::: "memory");
  printf("allocated\n");
  return 0;
}
