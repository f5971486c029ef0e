// What a GPU event carries beyond the common EventRecord fields, packed into
// its aux word, and which GPU events make and end blocks. Shared by the
// agent, which packs, and the analyzer, which unpacks.
//
// aux bits  0..7   device ordinal (kGpuDeviceUnknown when the driver did not say)
//           8..15  GpuApi: the driver entry point that made the event
//          16..31  the call's CUresult (low 16 bits; 0 = success)
//          32..63  object: string id naming the stream or pool ("stream 0x...",
//                  "pool 0x..."), 0 = none
#pragma once

#include <cstdint>

#include "memtide_common/event.h"

namespace memtide {

inline constexpr uint32_t kGpuDeviceUnknown = 0xFF;

// Persistent ids: append only.
enum class GpuApi : uint8_t {
  kUnknown = 0,
  kMemAlloc = 1,
  kMemAllocPitch = 2,
  kMemFree = 3,
  kMemAllocManaged = 4,
  kMemAllocHost = 5,
  kMemHostAlloc = 6,
  kMemFreeHost = 7,
  kMemAllocAsync = 8,
  kMemAllocFromPoolAsync = 9,
  kMemFreeAsync = 10,
  kMemCreate = 11,
  kMemRelease = 12,
  kMemMap = 13,
  kMemUnmap = 14,
  kMemAddressReserve = 15,
  kMemAddressFree = 16,
  kActivityRecord = 17,  // a CUPTI activity record, not an API call
};

const char* gpu_api_name(GpuApi api);

struct GpuAux {
  uint32_t device = kGpuDeviceUnknown;
  GpuApi api = GpuApi::kUnknown;
  uint32_t result = 0;
  uint32_t object = 0;
};

constexpr uint64_t pack_gpu_aux(const GpuAux& a) {
  return uint64_t(a.device & 0xFF) | uint64_t(static_cast<uint8_t>(a.api)) << 8 |
         uint64_t(a.result & 0xFFFF) << 16 | uint64_t(a.object) << 32;
}

constexpr GpuAux unpack_gpu_aux(uint64_t aux) {
  GpuAux a;
  a.device = static_cast<uint32_t>(aux & 0xFF);
  a.api = static_cast<GpuApi>((aux >> 8) & 0xFF);
  a.result = static_cast<uint32_t>((aux >> 16) & 0xFFFF);
  a.object = static_cast<uint32_t>(aux >> 32);
  return a;
}

constexpr bool is_gpu_event(EventKind k) {
  auto v = static_cast<uint8_t>(k);
  return v >= 96 && v <= 123;
}

// Events that make a GPU block (memory, or for kCudaReserve an address range).
constexpr bool is_gpu_allocation(EventKind k) {
  auto v = static_cast<uint8_t>(k);
  return v >= 96 && v <= 104;
}

// Events that end one or more GPU blocks.
constexpr bool is_gpu_deallocation(EventKind k) {
  auto v = static_cast<uint8_t>(k);
  return v >= 112 && v <= 119;
}

// How GPU bytes are reported: what kind of memory a block is.
enum class GpuMemoryClass : uint8_t {
  kDevice,    // cuMemAlloc/Pitch
  kManaged,   // unified memory
  kPinned,    // page-locked host memory
  kAsync,     // stream-ordered allocations out of memory pools
  kPhysical,  // VMM physical allocations (cuMemCreate)
  kMapped,    // VMM mappings (views of physical memory, not extra bytes)
  kReserved,  // virtual address reservations (no memory)
  kStatic,    // module globals
  kGraph,     // graph memory nodes
  kCount,
};

const char* gpu_memory_class_name(GpuMemoryClass c);
// The class a GPU allocation event creates.
GpuMemoryClass gpu_memory_class(EventKind allocation);
// The allocation kinds a GPU deallocation kind may end, in the order to try.
// Returns how many were written (at most 3).
int gpu_kinds_freed_by(EventKind deallocation, EventKind out[3]);

}  // namespace memtide
