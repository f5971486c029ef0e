// A heap of one million live blocks for timing the exit leak scan: two linked
// structures (every block points at the previous one of its structure and at
// a random earlier one of it); a global holds one, the other is dropped, so
// the scan floods half a million reachable blocks and finds half a million
// lost ones (one definitely, the rest indirectly). Run it under the agent
// and read meta.leak_scan_ms:
//   LD_PRELOAD=libmemtide.so MEMTIDE_OUTPUT=scan.db bench-leak-scan-heap
//   sqlite3 scan.db "select value from meta where key = 'leak_scan_ms'"
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

struct Node {
  Node* next;
  Node* other;
  uint64_t payload[2];  // 32-byte blocks, like a program's small objects
};

Node* volatile g_heads[2] = {nullptr, nullptr};

}  // namespace

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::atol(argv[1]) : 1000000;
  Node* chains[2] = {nullptr, nullptr};
  Node** recent = static_cast<Node**>(std::calloc(1024, sizeof(Node*)));
  uint64_t state = 88172645463325252ull;
  for (long i = 0; i < count; ++i) {
    Node* node = static_cast<Node*>(std::malloc(sizeof(Node)));
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    node->next = chains[i & 1];
    const uint64_t slot = (state % 512) * 2 + uint64_t(i & 1);  // slots of this structure
    node->other = recent[slot];
    node->payload[0] = state;
    node->payload[1] = uint64_t(i);
    recent[slot] = node;
    chains[i & 1] = node;
  }
  g_heads[0] = chains[0];
  g_heads[1] = chains[1];
  std::free(recent);
  std::printf("%ld blocks\n", count);
  g_heads[1] = nullptr;  // the second structure is lost from here on
  return 0;
}
