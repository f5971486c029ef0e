// Fragments a heap region on purpose, for `memtide frag`: a thread of its own
// (so glibc gives it a fresh arena, where blocks are carved one after
// another) allocates kBlocks equal blocks and then one pinning block, which
// keeps the freed space from rejoining the arena's top. Then:
//   default     every other block is freed: kBlocks / 2 holes of one chunk each;
//   --compact   the second half is freed: one hole of kBlocks / 2 chunks.
// The marker "fragmented" is set in that state; everything is freed after it.
// `--hold-ms N` keeps the state N ms (so the agent's samples see it).
#include <memtide/annotate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kBlocks = 32, kBlockBytes = 1000, kPinBytes = 200 };

static int compact = 0;
static long hold_ms = 0;

// Not inlined: the pinning blocks' stacks name it.
__attribute__((noinline)) static void allocate_region(void** blocks, void** pin) {
  for (int i = 0; i < kBlocks; ++i) blocks[i] = malloc(kBlockBytes);
  *pin = malloc(kPinBytes);
}

static void* fragment(void* unused) {
  (void)unused;
  void* blocks[kBlocks];
  void* pin;
  memtide_marker("region");
  allocate_region(blocks, &pin);
  for (int i = 0; i < kBlocks; ++i) {
    const int keep = compact ? i < kBlocks / 2 : i % 2 == 0;
    if (!keep) {
      free(blocks[i]);
      blocks[i] = NULL;
    }
  }
  memtide_marker("fragmented");
  if (hold_ms > 0) {
    struct timespec t = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
  }
  for (int i = 0; i < kBlocks; ++i) free(blocks[i]);
  free(pin);
  return NULL;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--compact") == 0) compact = 1;
    if (strcmp(argv[i], "--hold-ms") == 0 && i + 1 < argc) hold_ms = atol(argv[++i]);
  }
  pthread_t thread;
  if (pthread_create(&thread, NULL, fragment, NULL) != 0) return 1;
  pthread_join(thread, NULL);
  return 0;
}
