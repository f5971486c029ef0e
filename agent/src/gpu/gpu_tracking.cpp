#include "gpu/gpu_tracking.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "gpu/cupti_injection.h"
#include "gpu/gpu_recorder.h"

namespace memtide::agent::gpu {

namespace {
std::atomic<int> g_installed{0};  // 0 = not read yet, 1 = yes, 2 = no
}  // namespace

bool hooks_installed() {
  int state = g_installed.load(std::memory_order_relaxed);
  if (state == 0) {
    const char* value = getenv("MEMTIDE_GPU");
    state = value != nullptr && std::strcmp(value, "off") == 0 ? 2 : 1;
    g_installed.store(state, std::memory_order_relaxed);
  }
  return state == 1;
}

void start_gpu_tracking(const char* library_path) {
  switch (requested_mode()) {
    case Mode::kOff:
      set_active_mode(Mode::kOff, "off (MEMTIDE_GPU=off)");
      return;
    case Mode::kHooks:
      set_active_mode(Mode::kHooks, "hooks: driver entry points wrapped as they are looked up");
      return;
    case Mode::kCupti:
      prepare_cupti(library_path);
      return;
  }
}

void finish_gpu_tracking() {
  flush_cupti();
}

}  // namespace memtide::agent::gpu
