// bench-tiny-new-delete: many tiny new/delete pairs on one thread.
//
// usage: bench-tiny-new-delete [COUNT]   (default 20000000 new + 20000000 delete)
//
// A ring of 256 slots keeps a small live set so every new is followed, 256
// iterations later, by the delete of that object: the compiler cannot pair
// and elide them, and the allocator sees the usual small-object churn.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

struct Small {
  uint64_t key;
  uint64_t value;
};
struct Medium {
  uint64_t key;
  uint64_t value;
  uint64_t pad[4];
};
struct Node {
  uint64_t key;
  Node* next;
};

constexpr unsigned kSlots = 256;

// Deletes the object a slot holds (of the type `kind` says) and returns a
// value read from it first, so the work cannot be optimised away.
inline uint64_t release(void* object, unsigned char kind) {
  uint64_t value = 0;
  switch (kind) {
    case 1:
      value = static_cast<Small*>(object)->value;
      delete static_cast<Small*>(object);
      break;
    case 2:
      value = static_cast<Medium*>(object)->pad[3];
      delete static_cast<Medium*>(object);
      break;
    case 3:
      value = static_cast<Node*>(object)->key;
      delete static_cast<Node*>(object);
      break;
    default:
      break;
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t count = 20000000;
  if (argc > 1) count = std::strtoull(argv[1], nullptr, 10);
  if (count == 0) {
    std::fprintf(stderr, "usage: %s [COUNT]\n", argv[0]);
    return 2;
  }

  void* slot[kSlots] = {};
  unsigned char kind[kSlots] = {};
  uint64_t checksum = 0;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (uint64_t i = 0; i < count; ++i) {
    const unsigned s = static_cast<unsigned>(i % kSlots);
    checksum += release(slot[s], kind[s]);  // delete what the slot held
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    switch (x % 3) {
      case 0:
        slot[s] = new Small{i, x};
        kind[s] = 1;
        break;
      case 1: {
        auto* m = new Medium{i, x, {}};
        m->pad[3] = i ^ x;
        slot[s] = m;
        kind[s] = 2;
        break;
      }
      default:
        slot[s] = new Node{i, nullptr};
        kind[s] = 3;
        break;
    }
  }
  for (unsigned s = 0; s < kSlots; ++s) checksum += release(slot[s], kind[s]);
  std::printf("bench-tiny-new-delete: new=%llu delete=%llu live_peak=%u checksum=%016llx\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(count),
              count < kSlots ? static_cast<unsigned>(count) : kSlots,
              static_cast<unsigned long long>(checksum));
  return 0;
}
