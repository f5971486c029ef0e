#include "real_functions.h"

#include "libc_symbols.h"

#include <atomic>
#include <cstdint>
#include <cstring>

namespace memtide::agent {

RealFunctions real;

// dlsym needs a few hundred bytes; 64 KiB leaves room for other early callers.
alignas(64) unsigned char g_bootstrap_pool[kBootstrapPoolBytes];

namespace {

std::atomic<size_t> g_bootstrap_used{0};
std::atomic<int> g_resolve_state{0};  // 0 = not started, 1 = resolving, 2 = done

}  // namespace

// Each block is preceded by its size (in the 16 bytes before it), so that a
// realloc of a bootstrap block knows how much to copy.
void* bootstrap_alloc(size_t size, size_t alignment) {
  if (alignment < 16) alignment = 16;
  size_t used = g_bootstrap_used.load(std::memory_order_relaxed);
  for (;;) {
    size_t start = (used + 16 + alignment - 1) & ~(alignment - 1);
    size_t end = start + size;
    if (end > sizeof(g_bootstrap_pool)) return nullptr;
    if (g_bootstrap_used.compare_exchange_weak(used, end)) {
      std::memcpy(g_bootstrap_pool + start - sizeof(size_t), &size, sizeof(size_t));
      return g_bootstrap_pool + start;
    }
  }
}

size_t bootstrap_block_size(const void* p) {
  size_t size;
  std::memcpy(&size, static_cast<const unsigned char*>(p) - sizeof(size_t), sizeof(size_t));
  return size;
}

void resolve_real_functions() {
  int expected = 0;
  if (!g_resolve_state.compare_exchange_strong(expected, 1)) {
    // Another thread resolves: wait for it, unless this is the resolving
    // thread calling back in through dlsym (then the pool serves it).
    return;
  }
  RealFunctions table{};
  // libc's dlsym, called from here, resolves RTLD_NEXT relative to memtide.
  DlsymFunction next = libc_dlsym();
#define MEMTIDE_HOOK(name, ret, params) \
  table.name = reinterpret_cast<ret(*) params>(next(RTLD_NEXT, #name));
#include "hooks.def"
#undef MEMTIDE_HOOK
  // Publish free last: real_functions_ready() tests it.
  auto* free_fn = table.free;
  table.free = nullptr;
  std::memcpy(static_cast<void*>(&real), &table, sizeof(table));
  std::atomic_thread_fence(std::memory_order_release);
  real.free = free_fn;
  g_resolve_state.store(2, std::memory_order_release);
}

}  // namespace memtide::agent
