// libc's own dlsym and dlvsym. memtide interposes both (to see how CUDA
// libraries look up the driver), so its own lookups cannot go through the
// dynamic linker's normal binding, which would find memtide's definitions
// first; they read libc's dynamic symbol table instead.
#pragma once

#include <cstdint>

namespace memtide::agent {

using DlsymFunction = void* (*)(void* handle, const char* symbol);
using DlvsymFunction = void* (*)(void* handle, const char* symbol, const char* version);

// Null only if libc cannot be found in the process (never in practice).
// Safe before any constructor has run: no allocation, no global constructors.
DlsymFunction libc_dlsym();
DlvsymFunction libc_dlvsym();

// The default-version definition of `name` in the loaded object whose path
// ends in `object_suffix`; null when absent.
void* find_default_symbol(const char* object_suffix, const char* name);

}  // namespace memtide::agent
