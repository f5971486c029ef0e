// Classifies the heap blocks live at exit the way Valgrind's memcheck does,
// by a flood fill from the roots in the manner of LeakSanitizer:
//
//  - a block pointed to at its start from a root, or from a block reached
//    that way, is still reachable;
//  - a block reached only through some interior pointer (into its middle),
//    or only from possibly lost blocks, is possibly lost;
//  - of the blocks not reached at all, those pointed to (start or interior)
//    from another unreached block are indirectly lost, the others definitely
//    lost. Unreached blocks are visited in address order, each one leading a
//    "clique" of the unreached blocks it reaches; a leader reached later by
//    another clique joins it. So in a lost cycle with no pointer from outside,
//    the block of lowest address is definitely lost and the rest indirectly.
//
// Pure: it reads memory through plain pointers and allocates only mapped
// memory. Which memory may be read is the caller's business (leak_scan.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "live_set.h"
#include "mapped_vector.h"

namespace memtide::agent {

enum class LeakCategory : uint8_t {
  kDefinite = 1,
  kIndirect = 2,
  kPossible = 3,
  kReachable = 4,
};

class LeakClassifier {
 public:
  // What a pointer into the middle of a block means, where the C library
  // says more than the address does: glibc's bins point at the header of the
  // next chunk, which lies inside the previous block (not a pointer to the
  // block at all), and a thread's control block points 16 bytes into its
  // dynamic thread vector (a pointer to the block as a whole).
  enum class Interior { kInterior, kIgnore, kStart };
  using InteriorRule = Interior (*)(const LiveBlock& block, uint64_t pointer, void* context);

  // `blocks` sorted by address and not overlapping; they must outlive the
  // classifier's use. False when out of memory.
  bool prepare(const LiveBlock* blocks, size_t count);
  void set_interior_rule(InteriorRule rule, void* context) {
    rule_ = rule;
    rule_context_ = context;
  }

  // The block's contents are never read (it could not be read safely).
  void mark_unreadable(size_t index) { flags_[index] |= kUnreadable; }
  // Forgets every mark but the unreadable ones, to start over.
  void reset();

  // Roots: words already copied out (registers), then memory ranges.
  void scan_root_words(const uint64_t* words, size_t count);
  void scan_root_range(uint64_t begin, uint64_t end);
  // Follows pointers from every reached block until nothing changes.
  void flood();
  // Sorts the blocks never reached into definitely and indirectly lost.
  void classify_unreached();

  size_t block_count() const { return count_; }
  LeakCategory category(size_t index) const;
  // While reading a block's contents: its index, else -1 (fault recovery).
  int64_t block_being_read() const { return reading_; }

  // The block containing `pointer` (its first byte for an empty block), or -1.
  int64_t find_block(uint64_t pointer) const;

 private:
  enum : uint8_t {
    kUnreached = 0,
    kReachable = 1,
    kPossible = 2,
    kIndirect = 3,
    kStateMask = 3,
    kUnreadable = 0x80,
  };
  static constexpr unsigned kLineShift = 8;     // 256-byte lines in the lookup map
  static constexpr uint64_t kMaxLineSpan = 64;  // bigger blocks: binary search

  struct LineSlot {
    uint64_t line_plus_one;  // 0 = empty
    uint64_t first_block;
  };

  uint8_t state(size_t i) const { return flags_[i] & kStateMask; }
  void set_state(size_t i, uint8_t s) { flags_[i] = uint8_t((flags_[i] & ~kStateMask) | s); }
  uint64_t end_of(size_t i) const {
    return blocks_[i].address + (blocks_[i].size ? blocks_[i].size : 1);
  }
  bool insert_line(uint64_t line, uint64_t block);
  void reach(uint64_t pointer, bool from_definite);
  void scan_words(uint64_t begin, uint64_t end, bool from_definite);
  void scan_for_clique(size_t index, size_t leader);

  const LiveBlock* blocks_ = nullptr;
  size_t count_ = 0;
  uint64_t lowest_ = 0, highest_ = 0;  // [lowest_, highest_) holds every block
  MappedVector<uint8_t> flags_;
  MappedVector<LineSlot> lines_;
  uint64_t line_mask_ = 0;
  MappedVector<uint32_t> large_;  // indices of blocks spanning many lines
  MappedVector<uint32_t> stack_;  // blocks to scan
  // Interior::kInterior when no rule is set.
  Interior interior_meaning(size_t index, uint64_t pointer) const {
    if (rule_ == nullptr || (flags_[index] & kUnreadable)) return Interior::kInterior;
    return rule_(blocks_[index], pointer, rule_context_);
  }
  InteriorRule rule_ = nullptr;
  void* rule_context_ = nullptr;
  volatile int64_t reading_ = -1;
};

}  // namespace memtide::agent
