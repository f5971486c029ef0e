/* fork with and without exec. Prints the child's pid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Called from main on both sides of the fork: the child's first stack shares
   its outer frames with the parent's last one, which the parent's writer may
   not have drained when the child was forked. */
__attribute__((noinline)) void* allocate_before_fork(void) {
  void* p = malloc(111);
  __asm__ volatile("" ::: "memory");
  return p;
}

__attribute__((noinline)) void* allocate_in_child(void) {
  void* p = malloc(222);
  __asm__ volatile("" ::: "memory");
  return p;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "exec-image") == 0) {
    free(malloc(444));
    return 0;
  }
  const int exec_child = argc > 1 && strcmp(argv[1], "exec") == 0;
  void* before = allocate_before_fork();
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    if (exec_child) {
      execl("/proc/self/exe", argv[0], "exec-image", (char*)NULL);
      _exit(90);
    }
    void* in_child = allocate_in_child();
    free(in_child);
    exit(0);
  }
  printf("%d\n", (int)child);
  int status = 0;
  waitpid(child, &status, 0);
  free(malloc(333));
  free(before);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}
