// Memory for the agent's own tables, straight from the kernel: never through
// malloc (so the hot path does not allocate) and never through the mmap hook.
#pragma once

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

namespace memtide::agent {

inline void* map_zeroed(size_t bytes) {
  long r =
      syscall(SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r < 0 && r > -4096) return nullptr;
  return reinterpret_cast<void*>(r);
}

inline void unmap(void* p, size_t bytes) {
  syscall(SYS_munmap, p, bytes);
}

}  // namespace memtide::agent
