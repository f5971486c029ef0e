// Deduplicated call stacks. A stack is stored as a path in a trie of
// (parent node, instruction pointer) nodes, outermost frame nearest the root,
// so stacks that share callers share nodes; an event carries the id of its
// innermost node. Node ids are 1-based; 0 means "no stack".
//
// Lookups of a stack seen before through the same cache (the writer keeps one
// per ring, writer_stacks.h) take no lock; new stacks are inserted under one
// lock. Nodes never move or change once published, which lets the writer
// copy them out without a lock.
#pragma once

#include <cstddef>
#include <cstdint>

#include "chunked_array.h"
#include "spin_lock.h"

namespace memtide::agent {

// 10 bytes: programs like a Python interpreter importing PyTorch create
// millions of nodes, so every byte per node counts against the agent's budget.
// An instruction pointer is a canonical address: 48 bits hold it (user space
// is below 2^47 on x86-64 and 2^48 on AArch64), sign-extended on the way out
// so that a kernel-half address (the vsyscall page) survives too.
struct __attribute__((packed)) StackNode {
  uint32_t ip_low;
  uint16_t ip_high;
  uint32_t parent;  // 0 = root

  StackNode() = default;
  StackNode(uint64_t ip, uint32_t parent_id)
      : ip_low(static_cast<uint32_t>(ip)),
        ip_high(static_cast<uint16_t>(ip >> 32)),
        parent(parent_id) {}
  uint64_t ip() const { return canonical((uint64_t(ip_high) << 32) | ip_low); }
  // What a node keeps of `ip`: itself for a canonical address. A garbage
  // return address from a broken stack maps to one value too, so looking it
  // up again finds its node instead of adding one per capture.
  static uint64_t canonical(uint64_t ip) {
    return static_cast<uint64_t>(static_cast<int64_t>(ip << 16) >> 16);
  }
};
static_assert(sizeof(StackNode) == 10);

// A cache of recent stacks of one ring: hash of the frames -> leaf node id.
struct StackCache {
  static constexpr size_t kEntries = 1024;
  // A hit needs both independent 64-bit hashes and the depth to match: a
  // false hit is a 2^-128 event, so the frames are not compared again.
  struct Entry {
    uint64_t hash;
    uint64_t check;
    uint32_t id;
    uint32_t depth;
  };
  Entry entries[kEntries];
  // The ring's previous stack and the trie node of each of its frames: a
  // new stack shares its outer frames with it and only its inner frames are
  // looked up in the trie, instead of the whole path from the root.
  static constexpr uint32_t kMaxFrames = 272;
  uint64_t last_ips[kMaxFrames];
  uint32_t last_nodes[kMaxFrames];
  uint32_t last_depth;
  // last_ips is the stack of the latest intern() call (a hit in `entries`
  // returns without recording it there).
  bool last_is_latest;
  // The hashes of the latest intern() call's stack, hashed from the
  // outermost frame in: prefix_hash[r] covers its r + 1 outermost frames.
  // Kept on every call, hits included, so a stack that shares its outer
  // frames with the previous one hashes its new inner frames only.
  uint64_t prefix_hash[kMaxFrames];
  uint64_t prefix_check[kMaxFrames];
  uint32_t prefix_depth;  // frames prefix_hash describes; 0 = none
  // Trie edges the ring's stacks used recently, (parent, ip) -> child: frames near
  // the root repeat across stacks, and a hit here needs neither the shared
  // index (a cache miss or two in a large trie) nor its lock. A thread uses
  // the first 2^kFirstEdgeBits entries until it has looked up
  // kEdgeGrowthLookups edges in the shared index, and all kEdges from then
  // on: a thread that walks many distinct stacks (a compiler) keeps four
  // times the edges, while the pages beyond the first 64 KiB of the other
  // threads' tables are never touched.
  static constexpr size_t kEdges = 16384;
  static constexpr uint32_t kFirstEdgeBits = 12;
  static constexpr uint32_t kEdgeGrowthLookups = 65536;
  struct Edge {
    uint64_t ip;
    uint32_t parent;
    uint32_t child;  // 0 = empty
  };
  Edge edges[kEdges];
  uint32_t edge_bits_added;  // 0 at first, then log2(kEdges) - kFirstEdgeBits
  uint32_t index_lookups;    // counted up to kEdgeGrowthLookups
  // Another cache whose edges this one uses instead of its own (null: its
  // own). Edges are facts about the whole program, not one thread: the
  // writer, which interns every thread's stacks, keeps one set for all.
  StackCache* shared_edges;
  StackCache* edge_cache() { return shared_edges != nullptr ? shared_edges : this; }
};

class StackTable {
 public:
  constexpr StackTable() = default;
  // Returns the id of the stack ips[0..depth) (ips[0] innermost). Never
  // allocates through malloc. Returns 0 when depth is 0 or memory is exhausted.
  // `known_shared`: outer frames the caller knows to equal those of the
  // previous stack interned with `cache` (0 when it does not know); used only
  // while that stack is the one `cache` recorded last.
  uint32_t intern(const uint64_t* ips, uint32_t depth, StackCache* cache,
                  uint32_t known_shared = 0);

  // Node `id` (1-based); valid for every id below published_count() + 1.
  const StackNode& node(uint32_t id) const { return nodes_[id - 1]; }
  uint32_t published_count() const { return nodes_.size(); }

  // fork: hold the lock across fork so the child sees a consistent table.
  void lock_for_fork() { lock_.lock(); }
  void unlock_after_fork() { lock_.unlock(); }
  void reset_lock_in_child() { lock_.reset(); }

 private:
  // Sets *created when the node is new.
  uint32_t find_or_add(uint32_t parent, uint64_t ip, bool* created);
  // Appends ips[count-1] .. ips[0] as a path below `parent`, a node created
  // by this call of intern(), and returns the last node's id (0 when out of
  // memory or ids).
  uint32_t add_chain(uint32_t parent, const uint64_t* ips, uint32_t count, StackCache* cache,
                     bool track);
  // Grows the index so that `new_nodes` more nodes fit under its load limit.
  bool reserve_index(size_t new_nodes);
  bool grow_index();

  SpinLock lock_;
  ChunkedArray<StackNode> nodes_;
  // Open addressing with linear probing, guarded by lock_. A 4-byte slot
  // holds a node id in its low 24 bits (0 = empty) and 8 bits of the key's
  // hash above them, so a probe reads a node (likely a cache miss in a large
  // trie) only when the tag matches. Ids are therefore below 2^24: 16.7
  // million nodes. The capacity is any multiple of 4096 slots (a hash is
  // mapped onto it by multiplication, not by a mask) and grows by half at
  // 4/5 load: the index costs 5 to 7.5 bytes a node, where doubling a power
  // of two at 3/4 load cost 5.3 to 10.7 and, while growing, 16 more.
  uint32_t* index_ = nullptr;
  size_t index_capacity_ = 0;
  size_t index_used_ = 0;
};

struct FrameHashes {
  uint64_t hash, check;
};
// Two independent hashes of ips[0..depth) (ips[0] innermost), taken from the
// outermost frame in.
FrameHashes hash_frames(const uint64_t* ips, uint32_t depth);
// The same, through `cache`'s prefix hashes: the `known_shared` outermost
// frames are those of the stack the cache hashed last, and only the others
// are hashed. Leaves the prefix hashes describing this stack.
FrameHashes hash_frames(const uint64_t* ips, uint32_t depth, StackCache& cache,
                        uint32_t known_shared);

// The process-wide table (never destroyed).
extern StackTable g_stack_table;
inline StackTable& stack_table() {
  return g_stack_table;
}

}  // namespace memtide::agent
