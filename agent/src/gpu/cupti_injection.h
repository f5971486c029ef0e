// MEMTIDE_GPU=cupti set-up and teardown (see cupti_injection.cpp).
#pragma once

namespace memtide::agent::gpu {

// At agent start: point CUDA_INJECTION64_PATH at libmemtide.so, or fall back
// to the hooks when another injection library is named there already.
void prepare_cupti(const char* library_path);

// Before the trace is closed: hand over the activity records still buffered.
void flush_cupti();

}  // namespace memtide::agent::gpu
