// Driver hooks (MEMTIDE_GPU=hooks): the CUDA runtime, cuBLAS, cuBLASLt and
// frameworks reach the driver through cuGetProcAddress, which they look up
// with dlsym. memtide's dlsym hands out a wrapped cuGetProcAddress, which
// hands out memtide's wrappers of the allocation entry points (every ABI
// version memtide knows, per-thread-stream variants included). The wrappers
// are also exported under the driver's own names, for programs linked to
// libcuda that call it through the PLT.
#pragma once

namespace memtide::agent::gpu {

// Called by the dlsym/dlvsym hooks with what libc found for `symbol`:
// returns the pointer to give the caller (a wrapper, or `found` itself).
void* filter_driver_symbol(const char* symbol, void* found);

// Number of driver entry points handed out wrapped so far (the trace's
// counter gpu_wrapped_lookups: zero means no CUDA library looked the driver up
// through memtide).
unsigned long wrapped_lookups();

}  // namespace memtide::agent::gpu
