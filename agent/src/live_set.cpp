#include "live_set.h"

#include <new>

namespace memtide::agent {
namespace {

bool is_heap_allocation(EventKind kind) {
  const auto v = static_cast<uint8_t>(kind);
  return v >= 1 && v <= 13;
}

bool is_heap_release(EventKind kind) {
  return kind == EventKind::kFree || kind == EventKind::kDelete ||
         kind == EventKind::kDeleteArray || kind == EventKind::kReallocFree;
}

uint64_t hash_address(uint64_t address) {
  return (address >> 4) * 0x9e3779b97f4a7c15ull;
}

}  // namespace

void LiveSet::apply_all(const EventRecord* events, uint32_t count, uint64_t undrained_elsewhere) {
  constexpr uint32_t kAhead = 8;
  for (uint32_t i = 0; i < count; ++i) {
    if (i + kAhead < count && capacity_ != 0) {
      const uint64_t slot = hash_address(events[i + kAhead].address) >> 20 & (capacity_ - 1);
      __builtin_prefetch(&table_[slot], 1);
    }
    apply(events[i], undrained_elsewhere);
  }
}

LiveSet::Entry* LiveSet::find_slot(uint64_t address) {
  if (capacity_ == 0 && !grow()) return nullptr;
  const uint64_t mask = capacity_ - 1;
  for (uint64_t i = hash_address(address) >> 20 & mask;; i = (i + 1) & mask) {
    Entry& e = table_[i];
    if (e.address == address || e.address == 0) return &e;
  }
}

bool LiveSet::grow() {
  const uint64_t capacity = capacity_ == 0 ? 4096 : capacity_ * 2;
  auto* table = static_cast<Entry*>(map_zeroed_random_access(capacity * sizeof(Entry)));
  if (table == nullptr) return false;
  Entry* old = table_;
  const uint64_t old_capacity = capacity_;
  table_ = table;
  capacity_ = capacity;
  for (uint64_t i = 0; i < old_capacity; ++i)
    if (old[i].address != 0) *find_slot(old[i].address) = old[i];
  if (old != nullptr) unmap(old, old_capacity * sizeof(Entry));
  return true;
}

// Backward-shift deletion: linear probing without deleted markers.
void LiveSet::erase_at(uint64_t slot) {
  const uint64_t mask = capacity_ - 1;
  uint64_t hole = slot;
  for (uint64_t i = (hole + 1) & mask; table_[i].address != 0; i = (i + 1) & mask) {
    const uint64_t home = hash_address(table_[i].address) >> 20 & mask;
    // Move the entry into the hole unless its home lies cyclically in (hole, i].
    const bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (stays) continue;
    table_[hole] = table_[i];
    hole = i;
  }
  table_[hole] = Entry{0, 0, 0};
  --used_;
}

void LiveSet::set_alive(uint64_t address, uint64_t size, uint64_t seq) {
  if ((used_ + 1) * 10 > capacity_ * 7 && !grow()) return;
  Entry* e = find_slot(address);
  if (e->address == 0) {
    *e = Entry{address, size, seq};
    ++used_;
    ++live_;
    return;
  }
  if ((e->seq & ~kTombstone) > seq) return;  // a later event already decided
  if (e->seq & kTombstone) ++live_;
  *e = Entry{address, size, seq};
}

void LiveSet::set_dead(uint64_t address, uint64_t seq, bool needs_tombstone) {
  if ((used_ + 1) * 10 > capacity_ * 7 && !grow()) return;
  Entry* e = find_slot(address);
  if (e->address != 0) {
    if ((e->seq & ~kTombstone) > seq) return;  // the free of an earlier block
    if (!(e->seq & kTombstone)) --live_;
    if (!needs_tombstone) {
      // A tombstone of an earlier free may still be listed in dead_:
      // end_cycle skips addresses whose entry is gone.
      erase_at(static_cast<uint64_t>(e - table_));
      return;
    }
  } else {
    if (!needs_tombstone) return;
    ++used_;
  }
  *e = Entry{address, 0, seq | kTombstone};
  dead_.push_back(address);
}

void LiveSet::apply(const EventRecord& event, uint64_t undrained_elsewhere) {
  if (event.address == 0) return;
  if (is_heap_allocation(event.kind) || event.kind == EventKind::kReallocInPlace)
    set_alive(event.address, event.size, event.seq);
  else if (is_heap_release(event.kind))
    set_dead(event.address, event.seq, event.seq >= undrained_elsewhere);
}

void LiveSet::end_cycle(uint64_t drained_below) {
  // A tombstone older than every event still waiting in a ring has outlived
  // every event that could contradict it: the allocations it outranks were
  // published before the free happened, so they are among the drained ones.
  size_t kept = 0;
  for (size_t i = 0; i < dead_.size(); ++i) {
    const uint64_t address = dead_[i];
    Entry* e = find_slot(address);
    if (e == nullptr || e->address == 0 || !(e->seq & kTombstone)) continue;  // revived or gone
    if ((e->seq & ~kTombstone) < drained_below)
      erase_at(static_cast<uint64_t>(e - table_));
    else
      dead_[kept++] = address;
  }
  dead_.adopt_written(kept);
}

bool LiveSet::collect(MappedVector<LiveBlock>& out) const {
  if (!out.reserve(out.size() + live_)) return false;
  for (uint64_t i = 0; i < capacity_; ++i) {
    const Entry& e = table_[i];
    if (e.address != 0 && !(e.seq & kTombstone)) out.push_back(LiveBlock{e.address, e.size});
  }
  return true;
}

// Never destroyed: the scan runs in the library's finalizer, after the
// program's static destructors and atexit handlers.
LiveSet& live_set() {
  // Cache lines of its own: the writer updates the set's counters on every
  // event, and a flag the hooks read on every event once shared the line
  // (that false sharing cost the tiny new/delete workload a few percent).
  alignas(64) static unsigned char storage[(sizeof(LiveSet) + 63) / 64 * 64];
  static LiveSet* set = new (storage) LiveSet();
  return *set;
}

}  // namespace memtide::agent
