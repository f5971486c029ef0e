/* Output and exit status must be the same with and without memtide. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  char* text = malloc(64);
  snprintf(text, 64, "hello %d %s", argc, argc > 1 ? argv[1] : "-");
  puts(text);
  fprintf(stderr, "to stderr\n");
  free(text);
  return 42;
}
