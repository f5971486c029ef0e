// The heap blocks live right now (address -> requested size), kept by the
// writer thread as it drains the rings, for the leak scan at exit.
//
// Rings are drained one after another, so events of different threads reach
// the writer out of sequence order: thread A's free of X (seq 10) can arrive
// one cycle after thread B's new allocation of X (seq 11), and a realloc's
// free half is published after the real realloc returned, possibly after
// another thread got the same address. Every entry therefore keeps the
// sequence number of the event that made it, and per address the event with
// the highest sequence number wins, whatever the order of arrival. A free
// leaves a tombstone so that an allocation of an earlier seq arriving later
// cannot bring the block back. An allocation is published before the hook
// returns its address, so before anyone can free it: it reaches the writer at
// the latest in the first cycle after the free that drains every ring whole
// (cycles in between take only full pages), and end_cycle, called after such
// whole drains only, drops tombstones one whole drain later.
#pragma once

#include <cstdint>

#include "mapped_vector.h"
#include "memtide_common/event.h"

namespace memtide::agent {

struct LiveBlock {
  uint64_t address;
  uint64_t size;
};

class LiveSet {
 public:
  // Applies one event; anything but a heap allocation, free or in-place
  // resize is ignored.
  void apply(const EventRecord& event);
  // The writer drained every ring whole: tombstones older than the previous
  // such cycle can go.
  void end_cycle();

  uint64_t live_count() const { return live_; }
  uint64_t tombstone_count() const { return used_ - live_; }
  uint64_t memory_bytes() const { return capacity_ * sizeof(Entry); }

  // Appends every live block to `out` (unsorted); false when out of memory.
  bool collect(MappedVector<LiveBlock>& out) const;

 private:
  struct Entry {
    uint64_t address;  // 0 = empty slot
    uint64_t size;     // requested bytes; for a tombstone, the cycle that made it
    uint64_t seq;      // top bit set for a tombstone
  };
  static constexpr uint64_t kTombstone = uint64_t(1) << 63;

  Entry* find_slot(uint64_t address);
  bool grow();
  void erase_at(uint64_t slot);
  void set_alive(uint64_t address, uint64_t size, uint64_t seq);
  void set_dead(uint64_t address, uint64_t seq);

  Entry* table_ = nullptr;
  uint64_t capacity_ = 0;  // power of two
  uint64_t used_ = 0;      // live entries and tombstones
  uint64_t live_ = 0;
  uint64_t cycle_ = 0;
  MappedVector<uint64_t> dead_this_cycle_, dead_last_cycle_;
};

// The process's live set (the writer's; a forked child inherits its copy).
LiveSet& live_set();

}  // namespace memtide::agent
