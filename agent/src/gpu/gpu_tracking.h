// GPU tracking's place in the agent's life: chosen at start, flushed before
// the trace closes. Compiled only where the CUDA headers were found; the
// agent calls these through MEMTIDE_GPU_TRACKING.
#pragma once

namespace memtide::agent::gpu {

// True unless MEMTIDE_GPU=off. Read straight from the environment: the dlsym
// hook asks before the agent has parsed its options.
bool hooks_installed();

void start_gpu_tracking(const char* library_path);
void finish_gpu_tracking();

}  // namespace memtide::agent::gpu
