// CUPTI activity records (MEMORY2, MEMORY_POOL) to GPU events. Driver
// callbacks already record every allocation API call; the records add what no
// API call shows: module globals, graph memory nodes and memory pools' reserve.
// Pure translation, so synthetic records test it without a GPU.
#pragma once

#include <cupti.h>

#include <cstdint>

#include "gpu/gpu_recorder.h"

namespace memtide::agent::gpu {

struct Translated {
  Call call;
  uint64_t time_ns = 0;  // the record's timestamp (CLOCK_MONOTONIC once registered)
};

// False for records that add nothing to the callbacks (or are of no interest).
bool translate_activity(const CUpti_Activity* record, Translated& out);

}  // namespace memtide::agent::gpu
