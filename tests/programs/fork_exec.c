/* fork with and without exec. Prints the child's pid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "exec-image") == 0) {
    free(malloc(444));
    return 0;
  }
  const int exec_child = argc > 1 && strcmp(argv[1], "exec") == 0;
  void* before = malloc(111);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    if (exec_child) {
      execl("/proc/self/exe", argv[0], "exec-image", (char*)NULL);
      _exit(90);
    }
    void* in_child = malloc(222);
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
