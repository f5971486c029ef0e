// What the driver says about each GPU's memory, for the sampler: NVML's
// used/total, loaded on first use and only by a process that used CUDA.
#pragma once

#include <cstdint>

namespace memtide::agent::gpu {

struct DriverMemory {
  bool known = false;
  uint64_t used = 0;  // device-wide, all processes
  uint64_t total = 0;
};

// For CUDA device ordinal `device`. Unknown where NVML is missing or where
// CUDA_VISIBLE_DEVICES renumbers the devices (ordinals are then not NVML's
// indices). Writer thread only.
DriverMemory driver_memory(uint32_t device);

}  // namespace memtide::agent::gpu
