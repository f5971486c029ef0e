// malloc and friends: call the real function, then tell the recorder.
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include <cstring>

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

bool multiply_overflows(size_t a, size_t b, size_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

}  // namespace

extern "C" {

void* malloc(size_t size) {
  if (!ready()) return bootstrap_alloc(size);
  void* p = real.malloc(size);
  record_allocation(EventKind::kMalloc, p, size, 0);
  return p;
}

void free(void* p) {
  if (p == nullptr || is_bootstrap_block(p)) return;
  record_release(EventKind::kFree, p, 0, 0);
  real.free(p);
}

void* calloc(size_t nmemb, size_t size) {
  if (!ready()) {
    size_t total;
    if (multiply_overflows(nmemb, size, &total)) return nullptr;
    return bootstrap_alloc(total);  // the pool is zero-initialised and never reused
  }
  void* p = real.calloc(nmemb, size);
  size_t total = 0;
  multiply_overflows(nmemb, size, &total);
  record_allocation(EventKind::kCalloc, p, total, nmemb);
  return p;
}

void* realloc(void* old, size_t size) {
  if (!ready() || is_bootstrap_block(old)) {
    void* p = ready() ? malloc(size) : bootstrap_alloc(size);
    if (p && old) std::memcpy(p, old, std::min(size, bootstrap_block_size(old)));
    return p;
  }
  if (old == nullptr) {
    void* p = real.realloc(nullptr, size);
    record_allocation(EventKind::kRealloc, p, size, 0);
    return p;
  }
  // The old block may be freed inside realloc: its sequence number is taken
  // before, and the event recorded only once the outcome is known.
  const bool recording = may_record();
  const uint64_t free_seq = recording ? next_seq() : 0;
  const uint64_t old_usable = recording ? real.malloc_usable_size(old) : 0;
  void* p = real.realloc(old, size);
  if (!recording) return p;
  if (p == old) {
    record_resize_in_place(p, size, 0, old_usable);
  } else if (p != nullptr || size == 0) {
    record_with_seq(free_seq, EventKind::kReallocFree, old, 0, 0, options().free_stacks,
                    old_usable);
    record_allocation(EventKind::kRealloc, p, size, 0);
  }
  return p;
}

void* reallocarray(void* old, size_t nmemb, size_t size) {
  size_t total;
  if (multiply_overflows(nmemb, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (!ready() || is_bootstrap_block(old)) return realloc(old, total);
  if (old == nullptr) {
    void* p = real.realloc(nullptr, total);
    record_allocation(EventKind::kReallocArray, p, total, nmemb);
    return p;
  }
  const bool recording = may_record();
  const uint64_t free_seq = recording ? next_seq() : 0;
  const uint64_t old_usable = recording ? real.malloc_usable_size(old) : 0;
  void* p = real.realloc(old, total);
  if (!recording) return p;
  if (p == old) {
    record_resize_in_place(p, total, nmemb, old_usable);
  } else if (p != nullptr || total == 0) {
    record_with_seq(free_seq, EventKind::kReallocFree, old, 0, 0, options().free_stacks,
                    old_usable);
    record_allocation(EventKind::kReallocArray, p, total, nmemb);
  }
  return p;
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  if (!ready()) {
    *out = bootstrap_alloc(size, alignment);
    return *out ? 0 : ENOMEM;
  }
  int rc = real.posix_memalign(out, alignment, size);
  if (rc == 0) record_allocation(EventKind::kPosixMemalign, *out, size, alignment);
  return rc;
}

void* aligned_alloc(size_t alignment, size_t size) {
  if (!ready()) return bootstrap_alloc(size, alignment);
  void* p = real.aligned_alloc(alignment, size);
  record_allocation(EventKind::kAlignedAlloc, p, size, alignment);
  return p;
}

void* memalign(size_t alignment, size_t size) {
  if (!ready()) return bootstrap_alloc(size, alignment);
  void* p = real.memalign(alignment, size);
  record_allocation(EventKind::kMemalign, p, size, alignment);
  return p;
}

void* valloc(size_t size) {
  if (!ready()) return bootstrap_alloc(size, 4096);
  void* p = real.valloc(size);
  record_allocation(EventKind::kValloc, p, size, 0);
  return p;
}

void* pvalloc(size_t size) {
  if (!ready()) return bootstrap_alloc(size, 4096);
  void* p = real.pvalloc(size);
  record_allocation(EventKind::kPvalloc, p, size, 0);
  return p;
}

size_t malloc_usable_size(void* p) {
  if (p == nullptr) return 0;
  if (is_bootstrap_block(p)) return bootstrap_block_size(p);
  if (!ready()) return 0;
  return real.malloc_usable_size(p);
}

}  // extern "C"
