// Which heap or GPU blocks back a pool: a block of at least
// kMinPoolBackingBytes that holds a pool sub-allocation's address is that
// pool's reserve. Only such large blocks enter the ordered index, so the
// cost per event stays a hash lookup for the small blocks that dominate.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>

#include "block_replay.h"
#include "memtide/analysis/scope_lifetimes.h"

namespace memtide::analysis {

class PoolBackingIndex {
 public:
  // Call for every block opened and ended, in event order.
  void opened(const Block& b) {
    if (b.family == AllocFamily::kPool || b.size < kMinPoolBackingBytes) return;
    if (b.kind == EventKind::kCudaVmmMap || b.kind == EventKind::kCudaReserve) return;
    candidates_[b.address] = b;
  }
  void ended(const Block& b) {
    if (b.size < kMinPoolBackingBytes) return;
    auto it = candidates_.find(b.address);
    if (it != candidates_.end() && it->second.id == b.id) candidates_.erase(it);
  }
  // The live block that holds pool sub-allocation `sub`, or null.
  const Block* container_of(const Block& sub) const {
    auto it = candidates_.upper_bound(sub.address);
    if (it == candidates_.begin()) return nullptr;
    --it;
    return sub.address + sub.size <= it->first + it->second.size ? &it->second : nullptr;
  }

 private:
  std::map<uint64_t, Block> candidates_;  // live large blocks by address
};

// The backing blocks of every pool in a trace (block id -> pool id), found
// in one pass. Block ids are BlockReplay's, the same in every replay.
std::unordered_map<int64_t, int64_t> find_pool_backing(const TraceFile& trace);

}  // namespace memtide::analysis
