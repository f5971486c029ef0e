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
  }
  return "unknown";
}

bool is_known_event_kind(uint8_t value) {
  return std::string_view(event_kind_name(static_cast<EventKind>(value))) != "unknown";
}

}  // namespace memtide
