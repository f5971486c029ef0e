// dlsym and dlvsym, interposed so that memtide sees how CUDA libraries find
// the driver (gpu/cuda_hooks.h). Every other lookup returns what libc would
// have returned to the caller.
//
// These run before any constructor (cuBLASLt's own constructor calls dlsym
// before the preloaded agent's), so nothing here depends on initialised
// globals beyond constant-initialised atomics.
#include <dlfcn.h>
#include <link.h>

#include "agent_state.h"
#include "gpu/cuda_hooks.h"
#include "libc_symbols.h"

namespace memtide::agent {
extern uint64_t g_agent_code_begin;
extern uint64_t g_agent_code_end;
}  // namespace memtide::agent

using namespace memtide::agent;

namespace {

bool inside_agent(const void* address) {
  auto a = reinterpret_cast<uint64_t>(address);
  return a >= g_agent_code_begin && a < g_agent_code_end;
}

link_map* object_of(const void* address) {
  Dl_info info;
  link_map* map = nullptr;
  if (dladdr1(address, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) == 0) return nullptr;
  return map;
}

void* lookup(void* handle, const char* symbol, const char* version) {
  if (version == nullptr) {
    DlsymFunction real_dlsym = libc_dlsym();
    return real_dlsym ? real_dlsym(handle, symbol) : nullptr;
  }
  DlvsymFunction real_dlvsym = libc_dlvsym();
  return real_dlvsym ? real_dlvsym(handle, symbol, version) : nullptr;
}

// RTLD_NEXT means "after the caller", and libc reads the caller from its own
// return address, which is now memtide. Walk the objects loaded after the
// caller instead, in load order, taking the first that defines the symbol.
// A versioned RTLD_NEXT lookup (dlvsym) is left to libc, relative to memtide.
void* lookup_next(const void* caller, const char* symbol, const char* version) {
  link_map* self = object_of(caller);
  if (self == nullptr || version != nullptr) return lookup(RTLD_NEXT, symbol, version);
  return find_symbol_after(self->l_addr, symbol);
}

void* lookup_for(const void* caller, void* handle, const char* symbol, const char* version) {
  if (symbol == nullptr || inside_agent(caller)) return lookup(handle, symbol, version);
  if (handle == RTLD_NEXT) return lookup_next(caller, symbol, version);
  void* found = lookup(handle, symbol, version);
  // RTLD_DEFAULT also searches the caller's own local scope (a library
  // dlopen'ed with RTLD_LOCAL and its dependencies), which memtide's scope
  // lacks.
  if (found == nullptr && handle == RTLD_DEFAULT) {
    if (link_map* map = object_of(caller)) found = lookup(map, symbol, version);
  }
  return found;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void* dlsym(void* handle, const char* symbol) {
  const void* caller = __builtin_return_address(0);
  void* found = lookup_for(caller, handle, symbol, nullptr);
  return found != nullptr && !inside_agent(caller) ? gpu::filter_driver_symbol(symbol, found)
                                                   : found;
}

extern "C" __attribute__((visibility("default"))) void* dlvsym(void* handle, const char* symbol,
                                                               const char* version) {
  const void* caller = __builtin_return_address(0);
  void* found = lookup_for(caller, handle, symbol, version);
  return found != nullptr && !inside_agent(caller) ? gpu::filter_driver_symbol(symbol, found)
                                                   : found;
}
