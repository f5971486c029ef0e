// The blocks live at one moment, by address, in the address spaces the
// fragmentation analysis walks: heap blocks, pool sub-allocations, GPU
// blocks and the program's mappings. Every change goes through three
// primitives (put, erase, and put over an existing block), which can be
// logged and undone: the state at the heap peak is the current state with
// the changes since the peak undone, so the peak needs neither a second pass
// over the trace nor a copy of the live set at every new high-water mark.
#pragma once

#include <cstdint>
#include <map>
#include <memory_resource>
#include <optional>
#include <vector>

namespace memtide::analysis {

struct LiveBlock {
  uint64_t size = 0;
  uint64_t time_ns = 0;
  uint32_t stack = 0, scope = 0;
  // A pool sub-allocation: its pool. A heap, GPU or mapped block: the pool
  // whose sub-allocations it holds (it backs that pool), or -1.
  int32_t pool = -1;
  uint8_t device = 0;         // GPU blocks: the CUDA device
  bool mapped_chunk = false;  // heap blocks glibc mapped on their own
};

class LiveLayout {
 public:
  enum Space : uint8_t { kHeap, kPoolBlocks, kGpu, kMappings, kSpaces };
  using Blocks = std::pmr::map<uint64_t, LiveBlock>;

  LiveLayout();

  const Blocks& blocks(Space space) const { return spaces_[space]; }
  const LiveBlock* find(Space space, uint64_t address) const;
  // The block whose [address, address + size) holds `address`, or end().
  Blocks::const_iterator containing(Space space, uint64_t address) const;
  size_t live_blocks() const;

  // Puts a block at `address`; returns the block it replaced, if any.
  std::optional<LiveBlock> put(Space space, uint64_t address, const LiveBlock& block);
  // Removes the block at `address` and returns it, if there was one.
  std::optional<LiveBlock> take(Space space, uint64_t address);

  // Logging: changes from now on can be undone (the log is emptied first).
  void start_log();
  void stop_log();
  bool logging() const { return logging_; }
  size_t log_size() const { return log_.size(); }
  // Back to the state when the log started, and forward again.
  void undo();
  void redo();

 private:
  struct Change {
    Space space;
    bool had_before, has_after;
    uint64_t address;
    LiveBlock before, after;
  };
  void apply(Space space, uint64_t address, bool present, const LiveBlock& block);

  std::pmr::unsynchronized_pool_resource nodes_;
  Blocks spaces_[kSpaces];
  bool logging_ = false;
  std::vector<Change> log_;
};

}  // namespace memtide::analysis
