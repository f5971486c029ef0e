// The real implementations behind every interposed function, resolved with
// dlsym(RTLD_NEXT) so another allocator preloaded or linked after memtide
// (jemalloc, tcmalloc) is what memtide forwards to.
#pragma once

#include <dlfcn.h>
#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace memtide::agent {

struct RealFunctions {
#define MEMTIDE_HOOK(name, ret, params) ret(*name) params;
#include "hooks.def"
#undef MEMTIDE_HOOK
};

extern RealFunctions real;

// Resolves the table once; safe to call from any hook, also re-entrantly while
// dlsym itself allocates (those calls are served by the bootstrap pool).
void resolve_real_functions();
inline bool real_functions_ready() {
  return real.free != nullptr;
}

// dlsym allocates before malloc is resolved: a small static pool serves those
// requests, and free/realloc must recognise its blocks.
void* bootstrap_alloc(size_t size, size_t alignment = 16);
size_t bootstrap_block_size(const void* p);

constexpr size_t kBootstrapPoolBytes = 64 * 1024;
extern unsigned char g_bootstrap_pool[kBootstrapPoolBytes];

// Inline: every free asks.
inline bool is_bootstrap_block(const void* p) {
  const auto addr = reinterpret_cast<uintptr_t>(p);
  const auto base = reinterpret_cast<uintptr_t>(g_bootstrap_pool);
  return addr - base < kBootstrapPoolBytes;
}

}  // namespace memtide::agent
