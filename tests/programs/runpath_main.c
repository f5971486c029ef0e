/* Calls into a library that dlopens its sibling by name (runpath_opener.c). */
#include <stdio.h>

int open_sibling_by_name(void);

int main(void) {
  const int answer = open_sibling_by_name();
  printf("answer %d\n", answer);
  return answer == 42 ? 0 : 1;
}
