#include "heap_count.h"

#include <cstdlib>
#include <new>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void __libc_free(void* p);
}

namespace heap_count {
namespace {

struct Slot {
  void* p;
  int64_t size;
  bool from_new_array;
  bool tombstone;
};
constexpr size_t kSlots = size_t{1} << 18;
Slot g_table[kSlots];
bool g_on = false;
Counts g_counts;
thread_local bool t_inside = false;  // operator new[] → malloc: count the block once

size_t slot_of(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) >> 4) * 0x9e3779b97f4a7c15ull >> 46;
}

void remember(void* p, size_t size, bool array) {
  if (!g_on || p == nullptr) return;
  ++g_counts.outstanding;
  g_counts.outstanding_bytes += static_cast<int64_t>(size);
  if (g_counts.outstanding_bytes > g_counts.peak_outstanding_bytes) {
    g_counts.peak_outstanding_bytes = g_counts.outstanding_bytes;
  }
  for (size_t i = slot_of(p);; i = (i + 1) % kSlots) {
    if (g_table[i].p == nullptr || g_table[i].tombstone) {
      g_table[i] = Slot{p, static_cast<int64_t>(size), array, false};
      return;
    }
  }
}

// Returns the slot holding p, or nullptr.
Slot* find(const void* p) {
  for (size_t i = slot_of(p);; i = (i + 1) % kSlots) {
    if (g_table[i].p == nullptr) return nullptr;
    if (!g_table[i].tombstone && g_table[i].p == p) return &g_table[i];
  }
}

void forget(void* p, bool via_free) {
  if (p == nullptr) return;
  Slot* s = find(p);
  if (s == nullptr) return;
  if (g_on) {
    --g_counts.outstanding;
    g_counts.outstanding_bytes -= s->size;
    if (via_free && s->from_new_array) ++g_counts.new_free_mismatches;
  }
  s->tombstone = true;
}

void count_call() {
  if (g_on) ++g_counts.calls;
}

}  // namespace

void start() {
  for (Slot& s : g_table) s = Slot{};
  g_counts = Counts{};
  g_on = true;
}

Counts stop() {
  g_on = false;
  return g_counts;
}

}  // namespace heap_count

using namespace heap_count;

extern "C" {

void* malloc(size_t size) {
  void* p = __libc_malloc(size);
  if (!t_inside) {
    count_call();
    remember(p, size, false);
  }
  return p;
}

// free(nullptr) returns at once without touching the allocator (Eigen's GEMM does it on every
// product): it is not counted as a call.
void free(void* p) {
  if (p != nullptr && !t_inside) {
    count_call();
    forget(p, true);
  }
  __libc_free(p);
}

void* calloc(size_t n, size_t size) {
  void* p = __libc_calloc(n, size);
  count_call();
  remember(p, n * size, false);
  return p;
}

void* realloc(void* old, size_t size) {
  count_call();
  forget(old, false);
  void* p = __libc_realloc(old, size);
  remember(p, size, false);
  return p;
}

void* aligned_alloc(size_t alignment, size_t size) {
  void* p = __libc_memalign(alignment, size);
  count_call();
  remember(p, size, false);
  return p;
}

void* memalign(size_t alignment, size_t size) {
  return aligned_alloc(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  void* p = aligned_alloc(alignment, size);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}

}  // extern "C"

// new[] is tracked so that a free() of its block can be told from a delete[].
void* operator new[](size_t size) {
  t_inside = true;
  void* p = __libc_malloc(size);
  t_inside = false;
  if (p == nullptr) throw std::bad_alloc();
  count_call();
  remember(p, size, true);
  return p;
}

void operator delete[](void* p) noexcept {
  if (p != nullptr) count_call();
  forget(p, false);
  __libc_free(p);
}

void operator delete[](void* p, size_t) noexcept {
  operator delete[](p);
}
