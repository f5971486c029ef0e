// Memory mappings made by the program (glibc's own internal mmap calls for
// large malloc blocks do not pass through here: those are heap blocks).
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real_functions.h"
#include "recorder.h"
#include "recorder_hot.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

using namespace memtide;
using namespace memtide::agent;

namespace {

inline bool ready() {
  if (__builtin_expect(real_functions_ready(), 1)) return true;
  resolve_real_functions();
  return real_functions_ready();
}

inline uint64_t mmap_aux(int prot, int flags) {
  return static_cast<uint32_t>(prot) | (static_cast<uint64_t>(static_cast<uint32_t>(flags)) << 32);
}

void* traced_mmap(void* address, size_t length, int prot, int flags, int fd, off_t offset) {
  void* p =
      ready()
          ? real.mmap(address, length, prot, flags, fd, offset)
          : reinterpret_cast<void*>(syscall(SYS_mmap, address, length, prot, flags, fd, offset));
  if (p != MAP_FAILED) record_allocation(EventKind::kMmap, p, length, mmap_aux(prot, flags));
  return p;
}

}  // namespace

extern "C" {

void* mmap(void* address, size_t length, int prot, int flags, int fd, off_t offset) {
  return traced_mmap(address, length, prot, flags, fd, offset);
}

void* mmap64(void* address, size_t length, int prot, int flags, int fd, off64_t offset) {
  return traced_mmap(address, length, prot, flags, fd, offset);
}

int munmap(void* address, size_t length) {
  record_release(EventKind::kMunmap, address, length, 0);
  if (!ready()) return static_cast<int>(syscall(SYS_munmap, address, length));
  return real.munmap(address, length);
}

void* mremap(void* old_address, size_t old_size, size_t new_size, int flags, ...) {
  void* new_address = nullptr;
  if (flags & MREMAP_FIXED) {
    va_list args;
    va_start(args, flags);
    new_address = va_arg(args, void*);
    va_end(args);
  }
  ready();
  const bool recording = may_record();
  const uint64_t unmap_seq = recording ? next_seq() : 0;
  void* p = real.mremap(old_address, old_size, new_size, flags, new_address);
  if (p == MAP_FAILED || !recording) return p;
  if (!(flags & MREMAP_DONTUNMAP))
    record_with_seq(unmap_seq, EventKind::kMremapUnmap, old_address, old_size, 0, false, 0);
  record_allocation(EventKind::kMremap, p, new_size, reinterpret_cast<uint64_t>(old_address));
  return p;
}

}  // extern "C"
