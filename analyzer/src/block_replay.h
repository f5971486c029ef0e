// Replays a trace's events into blocks: each allocation paired with the
// event that ended it (or none), per address space (heap, pool
// sub-allocations, each GPU memory class), keeping only the blocks live at
// the moment. The index writes what it sees to SQL; the report aggregates it
// in memory.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>

#include "memtide/analysis/allocation_index.h"
#include "memtide_common/event.h"
#include "memtide_common/gpu_event.h"

namespace memtide::analysis {

struct Block {
  int64_t id;  // allocation order, from 1
  EventKind kind;
  AllocFamily family;
  int64_t device;  // CUDA device; -1 on the host
  uint64_t address, size;
  int64_t thread_id;
  uint32_t scope, stack;
  int64_t step;  // training step at allocation; -1 before the first
  int64_t pool;  // pool id of a pool sub-allocation; -1 otherwise
  uint64_t seq, time_ns;
};

// How a block ended; `freed` is null for a block live at the end.
struct BlockEnd {
  const EventRecord* freed = nullptr;
  int64_t thread_id = 0;
  int64_t step = -1;
  bool mismatch = false;  // freed by another family's API
};

class BlockSink {
 public:
  virtual ~BlockSink() = default;
  // A block starts (aggregators that follow the live set as it changes);
  // every opened block later reaches block() exactly once.
  virtual void opened(const Block&) {}
  virtual void block(const Block& block, const BlockEnd& end) = 0;
  virtual void unmatched_free(const EventRecord& free, int64_t thread_id) = 0;
  virtual void step(int64_t step, const EventRecord& event, int64_t thread_id,
                    int64_t live_heap_bytes) = 0;
};

class BlockReplay {
 public:
  explicit BlockReplay(BlockSink& sink) : sink_(sink) {}
  void event(const EventRecord& e, int64_t thread_id);
  // Hands every block still live to the sink; returns the counts.
  IndexStats finish();

 private:
  enum Space : int { kHeap = 0, kPool = 1, kGpuFirst = 2 };
  static constexpr int kSpaces = kGpuFirst + static_cast<int>(GpuMemoryClass::kCount);
  static int space_of_gpu(GpuMemoryClass c) { return kGpuFirst + static_cast<int>(c); }

  void open(const EventRecord& e, int64_t thread_id, int space, AllocFamily family, int64_t device,
            int64_t pool);
  void close(int space, const EventRecord& e, int64_t thread_id);
  void close_gpu(const EventRecord& e, int64_t thread_id);
  void end(const Block& block, const EventRecord* freed, int64_t thread_id, bool mismatch);

  BlockSink& sink_;
  // Blocks by address. Mappings need ordered ranges (an unmap may end several).
  std::unordered_map<uint64_t, Block> live_[kSpaces];
  std::map<uint64_t, Block> mapped_;
  int64_t next_id_ = 1;
  int64_t step_ = -1;
  int64_t live_heap_ = 0;
  IndexStats stats_;
};

}  // namespace memtide::analysis
