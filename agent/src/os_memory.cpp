#include "os_memory.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace memtide::agent {
namespace {

constexpr uint32_t kRegistryCapacity = 16384;

struct Registry {
  std::atomic<uint32_t> count{0};
  std::atomic<uint64_t> begin[kRegistryCapacity];
  std::atomic<uint64_t> end[kRegistryCapacity];
};
Registry g_registry;

}  // namespace

void* map_zeroed(size_t bytes) {
  long r =
      syscall(SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r < 0 && r > -4096) return nullptr;
  const uint32_t slot = g_registry.count.load(std::memory_order_relaxed);
  if (slot < kRegistryCapacity) {
    const uint32_t claimed = g_registry.count.fetch_add(1, std::memory_order_relaxed);
    if (claimed < kRegistryCapacity) {
      g_registry.begin[claimed].store(uint64_t(r), std::memory_order_relaxed);
      g_registry.end[claimed].store(uint64_t(r) + bytes, std::memory_order_release);
    }
  }
  return reinterpret_cast<void*>(r);
}

void* map_zeroed_random_access(size_t bytes) {
  void* p = map_zeroed(bytes);
  constexpr size_t kHugePage = size_t(2) << 20;
  if (p != nullptr && bytes >= kHugePage) madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

void unmap(void* p, size_t bytes) {
  const uint64_t begin = reinterpret_cast<uint64_t>(p);
  const uint32_t n = own_mapping_count();
  for (uint32_t i = 0; i < n; ++i)
    if (g_registry.begin[i].load(std::memory_order_relaxed) == begin)
      g_registry.end[i].store(0, std::memory_order_release);
  syscall(SYS_munmap, p, bytes);
}

uint32_t own_mapping_count() {
  const uint32_t n = g_registry.count.load(std::memory_order_acquire);
  return n < kRegistryCapacity ? n : kRegistryCapacity;
}

OwnMapping own_mapping_at(uint32_t index) {
  return {g_registry.begin[index].load(std::memory_order_relaxed),
          g_registry.end[index].load(std::memory_order_acquire)};
}

}  // namespace memtide::agent
