#include "memtide_common/event.h"

#include <string_view>

namespace memtide {

const char* event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kMalloc:
      return "malloc";
    case EventKind::kCalloc:
      return "calloc";
    case EventKind::kRealloc:
      return "realloc";
    case EventKind::kReallocArray:
      return "reallocarray";
    case EventKind::kPosixMemalign:
      return "posix_memalign";
    case EventKind::kAlignedAlloc:
      return "aligned_alloc";
    case EventKind::kMemalign:
      return "memalign";
    case EventKind::kValloc:
      return "valloc";
    case EventKind::kPvalloc:
      return "pvalloc";
    case EventKind::kNew:
      return "new";
    case EventKind::kNewArray:
      return "new[]";
    case EventKind::kNewNothrow:
      return "new(nothrow)";
    case EventKind::kNewArrayNothrow:
      return "new[](nothrow)";
    case EventKind::kFree:
      return "free";
    case EventKind::kDelete:
      return "delete";
    case EventKind::kDeleteArray:
      return "delete[]";
    case EventKind::kReallocFree:
      return "realloc_free";
    case EventKind::kReallocInPlace:
      return "realloc_in_place";
    case EventKind::kMmap:
      return "mmap";
    case EventKind::kMunmap:
      return "munmap";
    case EventKind::kMremap:
      return "mremap";
    case EventKind::kMremapUnmap:
      return "mremap_unmap";
    case EventKind::kScopeEnter:
      return "scope_enter";
    case EventKind::kScopeExit:
      return "scope_exit";
    case EventKind::kStep:
      return "step";
    case EventKind::kMark:
      return "mark";
    case EventKind::kPoolCreate:
      return "pool_create";
    case EventKind::kPoolAlloc:
      return "pool_alloc";
    case EventKind::kPoolFree:
      return "pool_free";
    case EventKind::kPoolDestroy:
      return "pool_destroy";
    case EventKind::kCudaDevice:
      return "cuda_device";
    case EventKind::kCudaManaged:
      return "cuda_managed";
    case EventKind::kCudaPinned:
      return "cuda_pinned";
    case EventKind::kCudaAsync:
      return "cuda_async";
    case EventKind::kCudaVmmCreate:
      return "cuda_vmm_create";
    case EventKind::kCudaVmmMap:
      return "cuda_vmm_map";
    case EventKind::kCudaReserve:
      return "cuda_reserve";
    case EventKind::kCudaStatic:
      return "cuda_static";
    case EventKind::kCudaGraph:
      return "cuda_graph";
    case EventKind::kCudaFree:
      return "cuda_free";
    case EventKind::kCudaFreeHost:
      return "cuda_free_host";
    case EventKind::kCudaFreeAsync:
      return "cuda_free_async";
    case EventKind::kCudaVmmRelease:
      return "cuda_vmm_release";
    case EventKind::kCudaVmmUnmap:
      return "cuda_vmm_unmap";
    case EventKind::kCudaReserveFree:
      return "cuda_reserve_free";
    case EventKind::kCudaStaticFree:
      return "cuda_static_free";
    case EventKind::kCudaGraphFree:
      return "cuda_graph_free";
    case EventKind::kCudaCapturedAlloc:
      return "cuda_captured_alloc";
    case EventKind::kCudaCapturedFree:
      return "cuda_captured_free";
    case EventKind::kCudaFailed:
      return "cuda_failed";
    case EventKind::kCudaPoolReserve:
      return "cuda_pool_reserve";
  }
  return "unknown";
}

bool is_known_event_kind(uint8_t value) {
  return std::string_view(event_kind_name(static_cast<EventKind>(value))) != "unknown";
}

}  // namespace memtide
