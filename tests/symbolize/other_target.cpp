// Another program, built under the file name of symbolize_target in the
// tests: a binary whose build-id differs from the one the trace recorded.
#include <cstdio>

int main() {
  puts("a different build");
  return 0;
}
