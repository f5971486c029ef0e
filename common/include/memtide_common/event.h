// Every event the agent records, defined in one place. The agent fills
// EventRecord on the hot path; the page codec stores records in the trace; the
// analyzer decodes them back into EventRecord. Kind values are persistent:
// never renumber them (append new kinds and bump the schema version).
#pragma once

#include <cstdint>

namespace memtide {

// Bumped whenever the database layout or the meaning of a stored value changes.
inline constexpr int kSchemaVersion = 3;
// meta.format identifies a memtide trace among SQLite files.
inline constexpr const char* kTraceFormatName = "memtide-trace";

// What an event is. Allocation kinds name the API that produced the block, so a
// block can be checked against the API that frees it (new[] freed by free ...).
enum class EventKind : uint8_t {
  // Heap allocations: address = block, size = requested bytes, aux = alignment
  // where the API takes one (0 otherwise).
  kMalloc = 1,
  kCalloc = 2,        // size = nmemb * size; aux = nmemb
  kRealloc = 3,       // block returned by a realloc that moved or had no input
  kReallocArray = 4,  // same for reallocarray; aux = nmemb
  kPosixMemalign = 5,
  kAlignedAlloc = 6,
  kMemalign = 7,
  kValloc = 8,
  kPvalloc = 9,
  kNew = 10,
  kNewArray = 11,
  kNewNothrow = 12,
  kNewArrayNothrow = 13,
  // Heap frees: address = block; size = the size passed to a sized delete (0
  // otherwise); aux = alignment for aligned delete.
  kFree = 32,
  kDelete = 33,
  kDeleteArray = 34,
  kReallocFree = 35,     // the old block of a realloc that moved, or realloc(p, 0)
  kReallocInPlace = 36,  // realloc kept the address: address = block, size = new size
  // Mappings: address, size = length; aux = prot | flags << 32 for mmap.
  kMmap = 48,
  kMunmap = 49,       // the range that was unmapped (may be part of a mapping)
  kMremap = 50,       // new range; aux = old address
  kMremapUnmap = 51,  // old range released by a moving mremap
  // Scopes and markers: aux = scope id / string id / step number.
  kScopeEnter = 64,  // aux = scope id entered (the event's scope is the parent)
  kScopeExit = 65,   // aux = scope id left
  kStep = 66,        // aux = step number
  kMark = 67,        // aux = string id
  // Pool annotations: aux = pool id; address/size = the sub-allocation.
  kPoolCreate = 80,  // address = pool handle, aux = pool id
  kPoolAlloc = 81,
  kPoolFree = 82,
  kPoolDestroy = 83,  // address = pool handle, aux = pool id
  // GPU memory (CUDA driver API, whatever the caller: runtime, cuBLAS, a
  // framework). aux = gpu_aux(device, api, result, object), see gpu_event.h.
  // address = device pointer (host pointer for pinned memory, the allocation
  // handle for VMM physical memory), size = bytes.
  kCudaDevice = 96,      // cuMemAlloc; cuMemAllocPitch with size = pitch * height
  kCudaManaged = 97,     // cuMemAllocManaged
  kCudaPinned = 98,      // cuMemHostAlloc, cuMemAllocHost (page-locked host memory)
  kCudaAsync = 99,       // cuMemAllocAsync, cuMemAllocFromPoolAsync; object = stream
  kCudaVmmCreate = 100,  // cuMemCreate: physical memory, address = handle
  kCudaVmmMap = 101,     // cuMemMap: physical memory mapped at address
  kCudaReserve = 102,    // cuMemAddressReserve: virtual addresses only, no memory
  kCudaStatic = 103,     // a module's __device__ globals (CUPTI records only)
  kCudaGraph = 104,      // graph memory node backing (CUPTI records; address may be 0)
  kCudaFree = 112,       // cuMemFree of device, pitch, managed or async memory
  kCudaFreeHost = 113,
  kCudaFreeAsync = 114,  // object = stream
  kCudaVmmRelease = 115,
  kCudaVmmUnmap = 116,  // the unmapped range, which may end several mappings
  kCudaReserveFree = 117,
  kCudaStaticFree = 118,
  kCudaGraphFree = 119,
  // Async allocation and free inside stream capture: the driver hands out an
  // address but no memory exists until the graph runs, so these are not blocks.
  kCudaCapturedAlloc = 120,
  kCudaCapturedFree = 121,
  // An allocation call that failed: size = bytes asked for, result in aux.
  kCudaFailed = 122,
  // A memory pool's reserve changed (CUPTI pool records): address = pool,
  // size = bytes the pool now holds from the device.
  kCudaPoolReserve = 123,
};

// True for events that create a live block (heap, mapping or pool). GPU
// events have predicates of their own (gpu_event.h).
constexpr bool is_allocation(EventKind k) {
  auto v = static_cast<uint8_t>(k);
  return (v >= 1 && v <= 13) || k == EventKind::kMmap || k == EventKind::kMremap ||
         k == EventKind::kPoolAlloc;
}

// True for events that end a block.
constexpr bool is_deallocation(EventKind k) {
  return k == EventKind::kFree || k == EventKind::kDelete || k == EventKind::kDeleteArray ||
         k == EventKind::kReallocFree || k == EventKind::kMunmap || k == EventKind::kMremapUnmap ||
         k == EventKind::kPoolFree;
}

// Stable lower-case names used in the database views and the CLI.
const char* event_kind_name(EventKind kind);
// False for a byte that is no known kind (a foreign or newer trace).
bool is_known_event_kind(uint8_t value);

// One event as buffered by the agent and as decoded by the analyzer.
// 64 bytes: one cache line per event in the per-thread ring.
struct EventRecord {
  uint64_t seq;      // global order; allocation after the real call, free before
  uint64_t time_ns;  // CLOCK_MONOTONIC
  uint64_t address;
  uint64_t size;
  uint64_t aux;
  uint32_t stack;  // stack id, 0 = none captured
  uint32_t scope;  // innermost scope of the thread, 0 = none
  EventKind kind;
  uint8_t reserved[15];
};
static_assert(sizeof(EventRecord) == 64);

// Agent-internal flag in EventRecord::reserved[0]: time_ns is already
// CLOCK_MONOTONIC ns rather than event clock ticks (the writer clears it).
inline constexpr uint8_t kEventTimeIsNs = 1;
// Agent-internal flag in EventRecord::reserved[0]: the event's stack is for
// the writer to intern; its depth and the outer frames it shares with the
// ring's previous stack are in reserved[1..4], its other frames in the
// records that follow it in the ring (agent/src/thread_ring.h).
inline constexpr uint8_t kEventStackFollows = 2;

}  // namespace memtide
