// GPU memory of a trace, per device and memory class: what was allocated,
// the peak, what was live at the end (the GPU leak candidates) or at a named
// marker, and which library made the calls (the origin: the module of the
// first frame outside the CUDA driver and runtime), so framework memory and
// library workspaces are told apart.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "memtide/analysis/trace_file.h"
#include "memtide_common/gpu_event.h"

namespace memtide::analysis {

struct GpuClassTotals {
  uint64_t allocations = 0, frees = 0;
  uint64_t allocated_bytes = 0;
  uint64_t live_blocks = 0, live_bytes = 0, peak_bytes = 0;
};

// Driver-level bytes against what pools hand out: a pool (annotate API) whose
// sub-allocations lie inside GPU blocks owns those blocks as its segments.
struct GpuPoolUse {
  std::string name;
  uint64_t segments = 0, reserved_bytes = 0, in_use_bytes = 0;
};

struct GpuReconciliation {
  uint64_t driver_bytes = 0;             // live GPU memory the driver handed out
  std::vector<GpuPoolUse> pools;         // the part held by annotated pools
  std::map<std::string, uint64_t> rest;  // the remainder by origin (library workspaces, ...)
};

struct GpuDeviceSummary {
  std::map<std::string, GpuClassTotals> by_class;  // gpu_memory_class_name -> totals
  // origin module -> live bytes of memory (mappings and reservations excluded)
  std::map<std::string, uint64_t> live_by_origin;
  uint64_t pool_reserved_bytes = 0;  // from CUPTI pool records
  GpuReconciliation reconciliation;  // at the end
};

struct GpuLiveAtMark {
  bool found = false;
  std::map<uint32_t, std::map<std::string, uint64_t>> bytes_by_class;   // device -> class -> bytes
  std::map<uint32_t, std::map<std::string, uint64_t>> bytes_by_origin;  // device -> origin -> bytes
  std::map<uint32_t, GpuReconciliation> reconciliation;                 // by device
};

struct GpuSummary {
  std::string mode, requested, detail;           // what GPU tracking did (trace meta)
  std::map<uint32_t, GpuDeviceSummary> devices;  // kGpuDeviceUnknown for device-less events
  uint64_t failed_calls = 0, captured_allocations = 0, unknown_frees = 0;
  GpuLiveAtMark at_mark;  // when a marker name was asked for: its first occurrence
};

// `mark`: name of a marker (memtide_mark / NVTX mark) at which to take the
// live bytes; empty for none.
GpuSummary summarize_gpu(const TraceFile& trace, const std::string& mark = "");

std::string format_gpu_text(const GpuSummary& summary);
std::string format_gpu_json(const GpuSummary& summary);

}  // namespace memtide::analysis
