// dlopen("libfoo.so") searches the *caller's* DT_RPATH/DT_RUNPATH ($ORIGIN
// included), and libc takes the caller from its return address, which inside
// memtide's dlopen hook is memtide. The hook asks here first: where the
// caller's own search path finds the file, it gets the full path.
#pragma once

#include <cstddef>

namespace memtide::agent {

// Writes into `out` (size `capacity`) the path to dlopen for `file` as
// `caller` would have found it through its RPATH/RUNPATH, and returns true;
// false to dlopen `file` unchanged (a path with '/', no match, or already
// loaded).
bool find_in_caller_paths(const char* file, const void* caller, char* out, size_t capacity);

}  // namespace memtide::agent
