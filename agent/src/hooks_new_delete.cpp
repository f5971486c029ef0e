// Every replaceable operator new and delete, so that each block records the
// API family that made it (new, new[], nothrow, aligned) and the one that ends
// it (delete, delete[], sized): mismatches become visible to the analyzer.
#include <new>

#include "real_functions.h"
#include "recorder.h"
#include "recorder_hot.h"

using namespace memtide;
using namespace memtide::agent;

namespace {

inline bool ready() {
  if (__builtin_expect(real_functions_ready(), 1)) return true;
  resolve_real_functions();
  return real_functions_ready();
}

void* raw_allocate(size_t size, size_t alignment) {
  if (size == 0) size = 1;
  if (!ready()) return bootstrap_alloc(size, alignment);
  if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return real.malloc(size);
  void* p = nullptr;
  return real.posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}

// The standard loop: call the new-handler until memory comes or none is set.
void* allocate_or_throw(size_t size, size_t alignment) {
  for (;;) {
    if (void* p = raw_allocate(size, alignment)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* allocate_nothrow(size_t size, size_t alignment) noexcept {
  try {
    return allocate_or_throw(size, alignment);
  } catch (...) {
    return nullptr;
  }
}

inline void* traced_new(EventKind kind, size_t size, size_t alignment) {
  void* p = allocate_or_throw(size, alignment);
  record_allocation(kind, p, size, alignment == __STDCPP_DEFAULT_NEW_ALIGNMENT__ ? 0 : alignment);
  return p;
}

inline void* traced_new_nothrow(EventKind kind, size_t size, size_t alignment) noexcept {
  void* p = allocate_nothrow(size, alignment);
  record_allocation(kind, p, size, alignment == __STDCPP_DEFAULT_NEW_ALIGNMENT__ ? 0 : alignment);
  return p;
}

inline void traced_delete(EventKind kind, void* p, size_t size, size_t alignment) noexcept {
  if (p == nullptr || is_bootstrap_block(p)) return;
  record_release(kind, p, size, alignment == __STDCPP_DEFAULT_NEW_ALIGNMENT__ ? 0 : alignment);
  real.free(p);
}

constexpr size_t kDefault = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
inline size_t align(std::align_val_t a) {
  return static_cast<size_t>(a);
}

}  // namespace

// clang-format off
void* operator new(size_t n) { return traced_new(EventKind::kNew, n, kDefault); }
void* operator new[](size_t n) { return traced_new(EventKind::kNewArray, n, kDefault); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return traced_new_nothrow(EventKind::kNewNothrow, n, kDefault); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return traced_new_nothrow(EventKind::kNewArrayNothrow, n, kDefault); }
void* operator new(size_t n, std::align_val_t a) { return traced_new(EventKind::kNew, n, align(a)); }
void* operator new[](size_t n, std::align_val_t a) { return traced_new(EventKind::kNewArray, n, align(a)); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return traced_new_nothrow(EventKind::kNewNothrow, n, align(a)); }
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return traced_new_nothrow(EventKind::kNewArrayNothrow, n, align(a)); }

void operator delete(void* p) noexcept { traced_delete(EventKind::kDelete, p, 0, kDefault); }
void operator delete[](void* p) noexcept { traced_delete(EventKind::kDeleteArray, p, 0, kDefault); }
void operator delete(void* p, const std::nothrow_t&) noexcept { traced_delete(EventKind::kDelete, p, 0, kDefault); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { traced_delete(EventKind::kDeleteArray, p, 0, kDefault); }
void operator delete(void* p, size_t n) noexcept { traced_delete(EventKind::kDelete, p, n, kDefault); }
void operator delete[](void* p, size_t n) noexcept { traced_delete(EventKind::kDeleteArray, p, n, kDefault); }
void operator delete(void* p, std::align_val_t a) noexcept { traced_delete(EventKind::kDelete, p, 0, align(a)); }
void operator delete[](void* p, std::align_val_t a) noexcept { traced_delete(EventKind::kDeleteArray, p, 0, align(a)); }
void operator delete(void* p, std::align_val_t a, const std::nothrow_t&) noexcept { traced_delete(EventKind::kDelete, p, 0, align(a)); }
void operator delete[](void* p, std::align_val_t a, const std::nothrow_t&) noexcept { traced_delete(EventKind::kDeleteArray, p, 0, align(a)); }
void operator delete(void* p, size_t n, std::align_val_t a) noexcept { traced_delete(EventKind::kDelete, p, n, align(a)); }
void operator delete[](void* p, size_t n, std::align_val_t a) noexcept { traced_delete(EventKind::kDeleteArray, p, n, align(a)); }
// clang-format on
