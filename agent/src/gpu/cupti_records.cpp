#include "gpu/cupti_records.h"

namespace memtide::agent::gpu {

namespace {

bool translate_memory(const CUpti_ActivityMemory4& m, Translated& out) {
  const bool allocation = m.memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION;
  if (!allocation && m.memoryOperationType != CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE)
    return false;
  EventKind kind;
  if (m.memoryKind == CUPTI_ACTIVITY_MEMORY_KIND_DEVICE_STATIC ||
      m.memoryKind == CUPTI_ACTIVITY_MEMORY_KIND_MANAGED_STATIC) {
    kind = allocation ? EventKind::kCudaStatic : EventKind::kCudaStaticFree;
  } else if (m.memoryKind == CUPTI_ACTIVITY_MEMORY_KIND_DEVICE && m.address == 0) {
    // Graph memory nodes are the device records with no address: the
    // backing is allocated at graph launch, by no API call of the program.
    kind = allocation ? EventKind::kCudaGraph : EventKind::kCudaGraphFree;
  } else {
    return false;  // an API call the driver callbacks recorded already
  }
  out.call = Call{};
  out.call.kind = kind;
  out.call.api = GpuApi::kActivityRecord;
  out.call.device = m.deviceId;
  out.call.address = m.address;
  out.call.size = m.bytes;
  out.time_ns = m.timestamp;
  return true;
}

bool translate_pool(const CUpti_ActivityMemoryPool3& p, Translated& out) {
  out.call = Call{};
  switch (p.memoryPoolOperationType) {
    case CUPTI_ACTIVITY_MEMORY_POOL_OPERATION_TYPE_CREATED:
    case CUPTI_ACTIVITY_MEMORY_POOL_OPERATION_TYPE_TRIMMED:
      out.call.size = p.size;
      break;
    case CUPTI_ACTIVITY_MEMORY_POOL_OPERATION_TYPE_DESTROYED:
      out.call.size = 0;
      break;
    default:
      return false;
  }
  out.call.kind = EventKind::kCudaPoolReserve;
  out.call.api = GpuApi::kActivityRecord;
  out.call.device = p.deviceId;
  out.call.address = p.address;
  out.time_ns = p.timestamp;
  return true;
}

}  // namespace

bool translate_activity(const CUpti_Activity* record, Translated& out) {
  if (record == nullptr) return false;
  if (record->kind == CUPTI_ACTIVITY_KIND_MEMORY2)
    return translate_memory(*reinterpret_cast<const CUpti_ActivityMemory4*>(record), out);
  if (record->kind == CUPTI_ACTIVITY_KIND_MEMORY_POOL)
    return translate_pool(*reinterpret_cast<const CUpti_ActivityMemoryPool3*>(record), out);
  return false;
}

}  // namespace memtide::agent::gpu
