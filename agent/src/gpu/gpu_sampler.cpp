#include "gpu/gpu_sampler.h"

#include <dlfcn.h>

#include <cstdlib>

namespace memtide::agent::gpu {

namespace {

// NVML's ABI (nvml.h), declared here so that the agent does not need the
// NVML headers: these entry points and nvmlMemory_t have been stable since
// NVML 2.
struct NvmlMemory {
  unsigned long long total, free, used;
};
using NvmlInit = int (*)();
using NvmlHandleByIndex = int (*)(unsigned, void**);
using NvmlMemoryInfo = int (*)(void*, NvmlMemory*);

struct Nvml {
  bool tried = false;
  bool ready = false;
  NvmlHandleByIndex handle_by_index = nullptr;
  NvmlMemoryInfo memory_info = nullptr;
};

Nvml& nvml() {
  static Nvml n;
  if (n.tried) return n;
  n.tried = true;
  if (getenv("CUDA_VISIBLE_DEVICES") != nullptr) return n;
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return n;
  auto init = reinterpret_cast<NvmlInit>(dlsym(lib, "nvmlInit_v2"));
  n.handle_by_index =
      reinterpret_cast<NvmlHandleByIndex>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
  n.memory_info = reinterpret_cast<NvmlMemoryInfo>(dlsym(lib, "nvmlDeviceGetMemoryInfo"));
  n.ready = init && n.handle_by_index && n.memory_info && init() == 0;
  return n;
}

}  // namespace

DriverMemory driver_memory(uint32_t device) {
  DriverMemory out;
  Nvml& n = nvml();
  void* handle = nullptr;
  NvmlMemory memory{};
  if (!n.ready || n.handle_by_index(device, &handle) != 0 || n.memory_info(handle, &memory) != 0)
    return out;
  out.known = true;
  out.used = memory.used;
  out.total = memory.total;
  return out;
}

}  // namespace memtide::agent::gpu
