// Where tensor bytes come from. Every tensor the engine creates asks an Allocator; the two
// implementations are the two sides of `--pool`:
//   SystemAllocator  one aligned_alloc/free per tensor (what a naive engine does);
//   ArenaAllocator   tensors carved out of a few large chunks kept for the whole run (arena.h).
// Both count what they hand out, so tests can check memory effects without the profiler.
#pragma once

#include <cstddef>
#include <cstdint>

namespace engine {

struct AllocatorStats {
  int64_t blocks = 0;           // blocks handed out to tensors, ever
  int64_t live_bytes = 0;       // bytes handed out and not yet returned
  int64_t peak_live_bytes = 0;  // high-water mark of live_bytes since the last reset_peak()
  int64_t system_calls = 0;     // calls into the C allocator (aligned_alloc + free)
  int64_t reserved_bytes = 0;   // bytes currently held from the C allocator
};

class Allocator {
 public:
  // Every block starts on a cache line, which suits SIMD loads and keeps blocks from sharing lines.
  static constexpr size_t kAlignment = 64;

  Allocator() = default;
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;
  virtual ~Allocator() = default;

  // Throws std::bad_alloc when the system has no memory left.
  void* allocate(size_t bytes);
  // `bytes` must be the size passed to allocate (tensors remember it).
  void deallocate(void* p, size_t bytes);

  const AllocatorStats& stats() const { return stats_; }
  void reset_peak() { stats_.peak_live_bytes = stats_.live_bytes; }

  static size_t round_up(size_t bytes) {
    return (bytes + kAlignment - 1) / kAlignment * kAlignment;
  }

 protected:
  // `bytes` is already rounded up to kAlignment.
  virtual void* do_allocate(size_t bytes) = 0;
  virtual void do_deallocate(void* p, size_t bytes) = 0;

  // Implementations report their own traffic with the C allocator.
  void* system_alloc(size_t bytes);
  void system_free(void* p, size_t bytes);

 private:
  AllocatorStats stats_;
};

class SystemAllocator final : public Allocator {
 public:
  ~SystemAllocator() override = default;

 protected:
  void* do_allocate(size_t bytes) override { return system_alloc(bytes); }
  void do_deallocate(void* p, size_t bytes) override { system_free(p, bytes); }
};

}  // namespace engine
