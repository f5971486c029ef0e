#include "stack_table.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <type_traits>

namespace memtide::agent {
namespace {

inline uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

inline uint64_t key_hash(uint32_t parent, uint64_t ip) {
  return mix(ip * 31 + parent);
}

// The index slot of a key: the hash's high bits scaled onto [0, capacity),
// which works for any capacity.
inline size_t slot_of(uint32_t parent, uint64_t ip, size_t capacity) {
  return static_cast<size_t>((static_cast<unsigned __int128>(key_hash(parent, ip)) * capacity) >>
                             64);
}

// The per-thread edge cache's slot of a key. Each step down the trie waits
// for the previous step's child id, which enters here: one multiply stands
// between that id and the load, where `mix` took two and a 128-bit scaling
// (the edge lookups were a fifth of the storm benchmark's capture cost).
// A collision only costs a miss: entries are checked against their key.
static_assert((StackCache::kEdges & (StackCache::kEdges - 1)) == 0);
constexpr uint32_t kAllEdgeBits = __builtin_ctzll(StackCache::kEdges);
static_assert(kAllEdgeBits >= StackCache::kFirstEdgeBits);
inline size_t edge_slot(uint32_t parent, uint64_t ip, const StackCache& cache) {
  const uint64_t key = (ip * 0x9e3779b97f4a7c15ULL) ^ (uint64_t(parent) * 0xc2b2ae3d27d4eb4fULL);
  return static_cast<size_t>(key >> (64 - StackCache::kFirstEdgeBits - cache.edge_bits_added));
}

// After a lookup in the shared index through `cache`. Entries stored before
// the table grew sit where the wider slots no longer look: they only miss.
inline void count_index_lookup(StackCache& cache) {
  if (cache.index_lookups < StackCache::kEdgeGrowthLookups) {
    if (++cache.index_lookups == StackCache::kEdgeGrowthLookups) {
      cache.edge_bits_added = kAllEdgeBits - StackCache::kFirstEdgeBits;
    }
  }
}

constexpr uint32_t kIdBits = 24;
constexpr uint32_t kIdMask = (1u << kIdBits) - 1;

// The tag takes the hash's low bits: the slot took its high ones.
inline uint32_t tag_of(uint32_t parent, uint64_t ip) {
  return static_cast<uint32_t>(key_hash(parent, ip) & 0xff) << kIdBits;
}

constexpr size_t kIndexGranule = 4096;  // slots: one page of 4-byte slots

// Inner frames below which a stack sharing its outer frames with the
// thread's previous one skips the whole-stack cache.
constexpr uint32_t kFewNewFrames = 6;

}  // namespace

// Constant-initialized, with no destructor to run: there from the first
// allocation of the process to the last (frees in late static destructors
// still intern stacks), and reached without a guard check on every event.
static_assert(std::is_trivially_destructible_v<StackTable>);
constinit StackTable g_stack_table;

namespace {

constexpr uint64_t kHashSeed = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kCheckSeed = 0xc2b2ae3d27d4eb4fULL;

inline void hash_step(uint64_t& h, uint64_t& c, uint64_t ip) {
  h = (h ^ ip) * 0x100000001b3ULL + (h >> 29);
  c = (c + ip) * 0x9fb21c651e98df25ULL ^ (c >> 31);
}

// The depth enters last: prefixes of every length share their steps.
inline FrameHashes hash_final(uint64_t h, uint64_t c, uint32_t depth) {
  return {mix(h ^ depth) | 1, mix(c + depth)};  // hash never 0: 0 marks an empty entry
}

}  // namespace

FrameHashes hash_frames(const uint64_t* ips, uint32_t depth) {
  uint64_t h = kHashSeed, c = kCheckSeed;
  for (uint32_t i = depth; i-- > 0;) hash_step(h, c, ips[i]);
  return hash_final(h, c, depth);
}

FrameHashes hash_frames(const uint64_t* ips, uint32_t depth, StackCache& cache,
                        uint32_t known_shared) {
  uint32_t r = std::min({known_shared, depth, cache.prefix_depth});
  uint64_t h = kHashSeed, c = kCheckSeed;
  if (r > 0) {
    h = cache.prefix_hash[r - 1];
    c = cache.prefix_check[r - 1];
  }
  for (; r < depth; ++r) {
    hash_step(h, c, ips[depth - 1 - r]);
    cache.prefix_hash[r] = h;
    cache.prefix_check[r] = c;
  }
  cache.prefix_depth = depth;
  return hash_final(h, c, depth);
}

uint32_t StackTable::intern(const uint64_t* ips, uint32_t depth, StackCache* cache,
                            uint32_t known_shared) {
  if (depth == 0) return 0;
  const bool track = cache != nullptr && depth <= StackCache::kMaxFrames;
  uint32_t shared = 0;  // outer frames in common with the thread's previous stack
  if (track && known_shared > 0 && cache->last_is_latest) {
    shared = std::min({known_shared, depth, cache->last_depth});
  }
  // A stack known to differ from the previous one in a few inner frames only
  // (the common case in a loop) costs a few edge-cache probes, less than
  // hashing the whole stack for the stack cache.
  const bool few_new_frames = shared > 0 && depth - shared <= kFewNewFrames;
  FrameHashes hashes{};
  StackCache::Entry* entry = nullptr;
  if (track && few_new_frames) {
    // No hash is needed for this stack. The prefix hashes stay right for the
    // frames it shares with the previous stack; a later stack that needs its
    // hash hashes the frames beyond those.
    cache->prefix_depth = std::min(cache->prefix_depth, shared);
  } else if (track) {
    hashes = hash_frames(ips, depth, *cache, known_shared);
  } else if (cache != nullptr) {
    // A stack too deep to keep: what the cache holds of the previous stack no
    // longer describes the latest one.
    cache->prefix_depth = 0;
    cache->last_is_latest = false;
    hashes = hash_frames(ips, depth);
  }
  if (cache != nullptr && !few_new_frames) {
    entry = &cache->entries[hashes.hash & (StackCache::kEntries - 1)];
    if (entry->hash == hashes.hash && entry->check == hashes.check && entry->depth == depth) {
      if (track) cache->last_is_latest = false;
      return entry->id;
    }
  }
  if (track && shared == 0) {
    const uint32_t last = cache->last_depth;
    while (shared < depth && shared < last &&
           ips[depth - 1 - shared] == cache->last_ips[last - 1 - shared])
      ++shared;
  }
  uint32_t id = 0;
  // Entries of last_ips to rewrite once this stack is interned: a stack as
  // deep as the previous one keeps the shared outer frames where they are.
  uint32_t ips_to_copy = depth;
  if (track) {
    const uint32_t last = cache->last_depth;
    if (shared > 0) {
      id = cache->last_nodes[last - shared];
      // The shared outer frames keep their nodes, at this stack's positions.
      if (last != depth) {
        std::memmove(cache->last_nodes + depth - shared, cache->last_nodes + last - shared,
                     shared * sizeof(uint32_t));
      } else {
        ips_to_copy = depth - shared;
      }
    }
    cache->last_depth = 0;  // inconsistent until this stack is complete
  }
  bool locked = false;
  StackCache* edges = cache != nullptr ? cache->edge_cache() : nullptr;
  for (uint32_t i = depth - shared; i-- > 0;) {
    StackCache::Edge* edge = nullptr;
    if (edges != nullptr) {
      edge = &edges->edges[edge_slot(id, ips[i], *edges)];
      if (edge->child != 0 && edge->parent == id && edge->ip == ips[i]) {
        id = edge->child;
        if (track) cache->last_nodes[i] = id;
        continue;
      }
    }
    if (!locked) {
      lock_.lock();
      locked = true;
    }
    const uint32_t parent = id;
    bool created = false;
    id = find_or_add(parent, ips[i], &created);
    if (id == 0) break;
    if (edge != nullptr) {
      *edge = StackCache::Edge{ips[i], parent, id};
      count_index_lookup(*edges);
    }
    if (track) cache->last_nodes[i] = id;
    if (created) {
      // Below a node just created every frame is new as well: no lookup.
      id = add_chain(id, ips, i, cache, track);
      break;
    }
  }
  if (locked) lock_.unlock();
  if (id == 0) return 0;
  if (track) {
    // A loop, not memcpy: GCC expands a memcpy of this size as `rep movsq`,
    // whose start-up cost was half of interning a stack with one new frame.
    for (uint32_t i = 0; i < ips_to_copy; ++i) cache->last_ips[i] = ips[i];
    cache->last_depth = depth;
    cache->last_is_latest = true;
  }
  if (entry != nullptr) {
    entry->hash = 0;  // a reader interrupted mid-update sees a miss
    entry->check = hashes.check;
    entry->id = id;
    entry->depth = depth;
    entry->hash = hashes.hash;
  }
  return id;
}

uint32_t StackTable::find_or_add(uint32_t parent, uint64_t ip, bool* created) {
  ip = StackNode::canonical(ip);
  if (!reserve_index(1)) return 0;
  const uint32_t tag = tag_of(parent, ip);
  for (size_t s = slot_of(parent, ip, index_capacity_);; s = s + 1 == index_capacity_ ? 0 : s + 1) {
    const uint32_t entry = index_[s];
    if (entry == 0) {
      if (nodes_.size() >= kIdMask) return 0;  // ids must fit in 24 bits
      uint32_t index = nodes_.append(StackNode{ip, parent});
      if (index == UINT32_MAX) return 0;
      index_[s] = tag | (index + 1);
      ++index_used_;
      *created = true;
      return index + 1;
    }
    if ((entry & ~kIdMask) != tag) continue;
    const uint32_t id = entry & kIdMask;
    const StackNode& n = node(id);
    if (n.parent == parent && n.ip() == ip) return id;
  }
}

bool StackTable::reserve_index(size_t new_nodes) {
  while ((index_used_ + new_nodes) * 5 > index_capacity_ * 4) {
    if (!grow_index()) return false;
  }
  return true;
}

uint32_t StackTable::add_chain(uint32_t parent, const uint64_t* ips, uint32_t count,
                               StackCache* cache, bool track) {
  if (count == 0) return parent;
  if (nodes_.size() + size_t{count} > kIdMask || !reserve_index(count)) return 0;
  // Node k of the chain (frame ips[count - 1 - k]) gets id parent + 1 + k:
  // ids are handed out in order under the lock. Its index slot is therefore
  // known before the nodes exist, so the slots of the next nodes are fetched
  // while this one is stored: a large trie's index misses the cache on every
  // insertion, and one at a time those misses were most of adding a stack.
  constexpr uint32_t kAhead = 8;
  const size_t capacity = index_capacity_;
  auto key_slot = [&](uint32_t k) {
    return slot_of(parent + k, StackNode::canonical(ips[count - 1 - k]), capacity);
  };
  for (uint32_t k = 0; k < std::min(count, kAhead); ++k)
    __builtin_prefetch(&index_[key_slot(k)], 1);
  uint32_t id = parent;
  for (uint32_t k = 0; k < count; ++k) {
    if (k + kAhead < count) __builtin_prefetch(&index_[key_slot(k + kAhead)], 1);
    const uint32_t i = count - 1 - k;
    const uint64_t ip = StackNode::canonical(ips[i]);
    const uint32_t index = nodes_.append(StackNode{ip, id});
    if (index == UINT32_MAX) return 0;
    const uint32_t child = index + 1;
    // A new key cannot be in the index: the probe looks for a free slot only.
    size_t s = slot_of(id, ip, capacity);
    while (index_[s] != 0) s = s + 1 == capacity ? 0 : s + 1;
    index_[s] = tag_of(id, ip) | child;
    ++index_used_;
    if (cache != nullptr) {
      StackCache& edges = *cache->edge_cache();
      edges.edges[edge_slot(id, ips[i], edges)] = StackCache::Edge{ips[i], id, child};
    }
    if (track) cache->last_nodes[i] = child;
    id = child;
  }
  return id;
}

bool StackTable::grow_index() {
  size_t capacity = index_capacity_ ? index_capacity_ + index_capacity_ / 2 : 4 * kIndexGranule;
  capacity = (capacity + kIndexGranule - 1) / kIndexGranule * kIndexGranule;
  auto* slots = static_cast<uint32_t*>(map_zeroed_random_access(capacity * sizeof(uint32_t)));
  if (slots == nullptr) return false;
  // Every node is in the index once: walking the nodes in id order reads
  // them sequentially, where walking the old slots read each node at random.
  // The new slots are at random, so each is fetched a few nodes ahead.
  const uint32_t count = nodes_.size();
  // A ring of the slots and tags computed ahead, each used kAhead nodes later.
  constexpr uint32_t kAhead = 16;
  struct Placed {
    size_t slot;
    uint32_t tag;
  } ahead[kAhead];
  auto place = [&](uint32_t id) {
    const StackNode& n = node(id);
    const Placed placed{slot_of(n.parent, n.ip(), capacity), tag_of(n.parent, n.ip())};
    __builtin_prefetch(&slots[placed.slot], 1);
    return placed;
  };
  for (uint32_t id = 1; id <= std::min(count, kAhead); ++id) ahead[id % kAhead] = place(id);
  for (uint32_t id = 1; id <= count; ++id) {
    const Placed placed = ahead[id % kAhead];
    if (id + kAhead <= count) ahead[id % kAhead] = place(id + kAhead);
    size_t s = placed.slot;
    while (slots[s] != 0) s = s + 1 == capacity ? 0 : s + 1;
    slots[s] = placed.tag | id;
  }
  if (index_ != nullptr) unmap(index_, index_capacity_ * sizeof(uint32_t));
  index_ = slots;
  index_capacity_ = capacity;
  return true;
}

}  // namespace memtide::agent
