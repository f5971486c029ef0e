#include "memtide_common/gpu_event.h"

namespace memtide {

const char* gpu_api_name(GpuApi api) {
  switch (api) {
    case GpuApi::kUnknown:
      return "unknown";
    case GpuApi::kMemAlloc:
      return "cuMemAlloc";
    case GpuApi::kMemAllocPitch:
      return "cuMemAllocPitch";
    case GpuApi::kMemFree:
      return "cuMemFree";
    case GpuApi::kMemAllocManaged:
      return "cuMemAllocManaged";
    case GpuApi::kMemAllocHost:
      return "cuMemAllocHost";
    case GpuApi::kMemHostAlloc:
      return "cuMemHostAlloc";
    case GpuApi::kMemFreeHost:
      return "cuMemFreeHost";
    case GpuApi::kMemAllocAsync:
      return "cuMemAllocAsync";
    case GpuApi::kMemAllocFromPoolAsync:
      return "cuMemAllocFromPoolAsync";
    case GpuApi::kMemFreeAsync:
      return "cuMemFreeAsync";
    case GpuApi::kMemCreate:
      return "cuMemCreate";
    case GpuApi::kMemRelease:
      return "cuMemRelease";
    case GpuApi::kMemMap:
      return "cuMemMap";
    case GpuApi::kMemUnmap:
      return "cuMemUnmap";
    case GpuApi::kMemAddressReserve:
      return "cuMemAddressReserve";
    case GpuApi::kMemAddressFree:
      return "cuMemAddressFree";
    case GpuApi::kActivityRecord:
      return "cupti_activity";
  }
  return "unknown";
}

const char* gpu_memory_class_name(GpuMemoryClass c) {
  switch (c) {
    case GpuMemoryClass::kDevice:
      return "device";
    case GpuMemoryClass::kManaged:
      return "managed";
    case GpuMemoryClass::kPinned:
      return "pinned";
    case GpuMemoryClass::kAsync:
      return "async";
    case GpuMemoryClass::kPhysical:
      return "vmm_physical";
    case GpuMemoryClass::kMapped:
      return "vmm_mapped";
    case GpuMemoryClass::kReserved:
      return "va_reserved";
    case GpuMemoryClass::kStatic:
      return "static";
    case GpuMemoryClass::kGraph:
      return "graph";
    case GpuMemoryClass::kCount:
      break;
  }
  return "unknown";
}

GpuMemoryClass gpu_memory_class(EventKind allocation) {
  switch (allocation) {
    case EventKind::kCudaManaged:
      return GpuMemoryClass::kManaged;
    case EventKind::kCudaPinned:
      return GpuMemoryClass::kPinned;
    case EventKind::kCudaAsync:
      return GpuMemoryClass::kAsync;
    case EventKind::kCudaVmmCreate:
      return GpuMemoryClass::kPhysical;
    case EventKind::kCudaVmmMap:
      return GpuMemoryClass::kMapped;
    case EventKind::kCudaReserve:
      return GpuMemoryClass::kReserved;
    case EventKind::kCudaStatic:
      return GpuMemoryClass::kStatic;
    case EventKind::kCudaGraph:
      return GpuMemoryClass::kGraph;
    default:
      return GpuMemoryClass::kDevice;
  }
}

int gpu_kinds_freed_by(EventKind deallocation, EventKind out[3]) {
  switch (deallocation) {
    case EventKind::kCudaFree:
      // cuMemFree also frees async blocks and managed memory.
      out[0] = EventKind::kCudaDevice;
      out[1] = EventKind::kCudaManaged;
      out[2] = EventKind::kCudaAsync;
      return 3;
    case EventKind::kCudaFreeAsync:
      out[0] = EventKind::kCudaAsync;
      out[1] = EventKind::kCudaDevice;
      out[2] = EventKind::kCudaManaged;
      return 3;
    case EventKind::kCudaFreeHost:
      out[0] = EventKind::kCudaPinned;
      return 1;
    case EventKind::kCudaVmmRelease:
      out[0] = EventKind::kCudaVmmCreate;
      return 1;
    case EventKind::kCudaVmmUnmap:
      out[0] = EventKind::kCudaVmmMap;
      return 1;
    case EventKind::kCudaReserveFree:
      out[0] = EventKind::kCudaReserve;
      return 1;
    case EventKind::kCudaStaticFree:
      out[0] = EventKind::kCudaStatic;
      return 1;
    case EventKind::kCudaGraphFree:
      out[0] = EventKind::kCudaGraph;
      return 1;
    default:
      return 0;
  }
}

}  // namespace memtide
