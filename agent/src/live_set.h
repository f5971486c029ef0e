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
// returns its address, so before anyone can free it: when the free is
// drained, the allocation is in a ring or already applied. A tombstone goes
// once every ring has been drained past its sequence number.
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
  // resize is ignored. `undrained_elsewhere`: the smallest sequence number
  // that may still wait in another ring than the event's (see below).
  void apply(const EventRecord& event, uint64_t undrained_elsewhere = 0);
  // Applies a batch of one ring, fetching each event's slot a few events
  // ahead: the table is far larger than the caches (a Python run keeps
  // 145,000 blocks live), and a miss per event made the writer fall behind.
  //
  // A free needs a tombstone only against an allocation of its address with
  // an earlier sequence number that has not arrived yet. That allocation was
  // published before the free happened, into a ring the writer has not
  // drained past it: when every event still waiting in other rings is later
  // than the free (`undrained_elsewhere`, read after the batch's own ring),
  // the block is erased at once. A program with one allocating thread then
  // makes no tombstones at all, which halves the set's work per free.
  void apply_all(const EventRecord* events, uint32_t count, uint64_t undrained_elsewhere = 0);
  // The writer ended a cycle; every published event with a sequence number
  // below `drained_below` has been applied (the smallest sequence number still
  // waiting in a ring, or UINT64_MAX when the rings are empty). Tombstones
  // below it can go.
  void end_cycle(uint64_t drained_below);

  uint64_t live_count() const { return live_; }
  uint64_t tombstone_count() const { return used_ - live_; }
  uint64_t memory_bytes() const { return capacity_ * sizeof(Entry); }

  // Appends every live block to `out` (unsorted); false when out of memory.
  bool collect(MappedVector<LiveBlock>& out) const;

 private:
  struct Entry {
    uint64_t address;  // 0 = empty slot
    uint64_t size;     // requested bytes; 0 for a tombstone
    uint64_t seq;      // top bit set for a tombstone
  };
  static constexpr uint64_t kTombstone = uint64_t(1) << 63;

  Entry* find_slot(uint64_t address);
  bool grow();
  void erase_at(uint64_t slot);
  void set_alive(uint64_t address, uint64_t size, uint64_t seq);
  void set_dead(uint64_t address, uint64_t seq, bool needs_tombstone);

  Entry* table_ = nullptr;
  uint64_t capacity_ = 0;  // power of two
  uint64_t used_ = 0;      // live entries and tombstones
  uint64_t live_ = 0;
  MappedVector<uint64_t> dead_;  // addresses of tombstones not yet released
};

// The process's live set (the writer's; a forked child inherits its copy).
LiveSet& live_set();

}  // namespace memtide::agent
