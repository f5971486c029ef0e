// GPU events into the common event stream, whichever mechanism saw them
// (driver hooks or CUPTI), plus what GPU tracking is doing for the trace's
// meta table. The bookkeeping of live GPU blocks here serves the sampler and
// the rules the events alone cannot express (an unmap that ends several
// mappings, captured stream allocations that are not memory).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "memtide_common/event.h"
#include "memtide_common/gpu_event.h"

namespace memtide::agent::gpu {

// Which mechanism records GPU events now. Hooks are installed in every mode
// but kOff; they record only while the mode is kHooks.
enum class Mode : int { kOff = 0, kHooks = 1, kCupti = 2 };

Mode active_mode();
// `detail` says why, for the trace ("cupti: subscribed", "hooks: CUPTI held
// by another subscriber (...)").
void set_active_mode(Mode mode, std::string detail);
// MEMTIDE_GPU resolved: auto means hooks (they leave CUPTI to torch.profiler
// and Nsight; see docs/ARCHITECTURE.md).
Mode requested_mode();

struct Call {
  EventKind kind = EventKind::kCudaDevice;
  GpuApi api = GpuApi::kUnknown;
  uint32_t device = kGpuDeviceUnknown;
  uint64_t address = 0;
  uint64_t size = 0;
  uint32_t result = 0;                // CUresult of the call
  const char* object_type = nullptr;  // "stream" or "pool": names `object`
  uint64_t object = 0;
};

// A free takes its sequence number before the driver call, an allocation
// after it (the ordering rule): pass the earlier number to record().
uint64_t seq_now();

// Records a successful allocation or free, or a failed allocation
// (kind kCudaFailed). seq = 0 takes one now. Null frees are dropped. An async
// allocation made while its stream is captured must come as
// kCudaCapturedAlloc; its later free is turned into kCudaCapturedFree here.
void record(const Call& call, uint64_t seq = 0);
// The same for facts from CUPTI activity records, stamped with the record's
// own CLOCK_MONOTONIC time.
void record_at(const Call& call, uint64_t time_ns);

// Live bytes the agent has seen, by device and memory class (sampler).
struct DeviceLive {
  uint32_t device;
  uint64_t bytes[static_cast<int>(GpuMemoryClass::kCount)];
};
std::vector<DeviceLive> live_by_device();

// Counters for the trace: name -> value ("gpu_events", "gpu_unknown_frees", ...).
void count(const char* name, uint64_t delta = 1);
std::vector<std::pair<std::string, uint64_t>> counters();
// meta rows: gpu_mode, gpu_detail.
std::vector<std::pair<std::string, std::string>> status_rows();

// Forget everything (a forked child starts with the parent's live blocks,
// which stay valid in the child only for pinned host memory; keep those).
void after_fork_in_child();

}  // namespace memtide::agent::gpu
