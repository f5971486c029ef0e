// memtide's stack capture on x86-64: a DWARF unwinder with two caches.
//
// 1. A process-wide table of frame rules by return address (frame_rules.h),
//    read without a lock: after its first capture, a return address costs
//    one probe instead of libunwind's per-thread cache lookup.
// 2. Each thread's previous stack, with every register state and every stack
//    word its walk read. A new capture walks its inner frames until one has
//    the same (ip, rsp, rbp) as a frame of the previous stack; from there, the
//    walk would read the same stack words and compute the same frames if
//    those words are unchanged, so it only compares them (independent loads,
//    no rule lookups) and copies the frames; where a word differs it walks
//    on and joins the previous stack again further out. Allocation-heavy
//    code calls the allocator again and again from the same deep stack, so
//    most of a capture is this comparison.
//
// A frame the unwinder cannot step through (a signal frame, code without
// unwind information, a DWARF expression other than the realigned-stack
// pattern) makes the capture return -1: the caller then uses libunwind.
#pragma once

#include <cstdint>

namespace memtide::agent {

// The previous stack of a thread. Two buffers: a capture writes the other one
// and flips, so the frames it shares with the previous stack are copied once.
struct UnwindHistory {
  static constexpr uint32_t kMaxFrames = 272;
  struct Buffer {
    uint64_t ip[kMaxFrames];  // frame j's return address (j = 0: the capturing function)
    uint64_t sp[kMaxFrames];  // rsp in frame j (its callee's CFA)
    uint64_t bp[kMaxFrames];  // rbp in frame j
    // Stack words the step from frame j to j+1 read besides the return
    // address (at sp[j+1] - 8); 0 when it read none.
    uint64_t rbp_slot[kMaxFrames];  // the saved rbp of frame j+1
    uint64_t cfa_slot[kMaxFrames];  // the CFA itself (realigned stacks)
    // What the step from frame j used: kStepKnown once it was taken, kUsesRbp
    // when it read frame j's rbp, kLoadsRbp when frame j+1's rbp came from
    // the stack. rbp is a general register in code built without frame
    // pointers, so frames that neither use nor restore it carry whatever a
    // loop left in it; matching those frames must not require equal rbp.
    uint8_t step_bits[kMaxFrames];
    uint32_t count;
    bool ended;  // the walk reached the outermost frame (not the depth limit)
  };
  Buffer buffers[2];
  // The thread's own small cache of frame rules in front of the process-wide
  // table, which on a large program (cc1plus has 12,000 return addresses)
  // outgrows the caches and costs a miss per lookup. Direct-mapped; emptied when the table is
  // (rules_generation differs from the table's).
  static constexpr uint32_t kRuleCacheEntries = 1024;
  struct CachedRule {
    uint64_t ra;  // 0 = empty
    uint64_t rule;
  };
  CachedRule rule_cache[kRuleCacheEntries];
  uint64_t rules_generation;
  uint32_t current;  // buffers[current] is the previous stack; count 0 = none
  // The last capture listed exactly the frames of the one before it (every
  // frame compared, none walked): its caller may reuse what it derived from
  // them, such as the stack id.
  bool repeated;
  // How many outermost frames of the last capture are those of the one before
  // it, when both reached the outermost frame (0 otherwise).
  uint32_t shared_tail;
};

inline constexpr uint8_t kStepKnown = 1, kUsesRbp = 2, kLoadsRbp = 4;

struct UnwindStats {
  uint64_t frames_walked;  // frames found by rule lookups
  uint64_t frames_reused;  // frames taken from the previous stack after comparing
};

// Captures at most `max_frames` return addresses of the calling thread,
// innermost first, starting with the return address into the caller of this
// function. Returns the count, or -1 where libunwind must do it. With a
// history, frames go into its next buffer and `*frames` points at them;
// without one (nullptr), into `scratch` (max_frames entries).
int fast_unwind(UnwindHistory* history, uint64_t* scratch, uint32_t max_frames,
                const uint64_t** frames, UnwindStats* stats = nullptr);

// The unwinder reads each object's unwind tables (.eh_frame_hdr, .eh_frame)
// once per new return address and keeps what it learned in its rule table;
// the file pages it read stay mapped in the program and count in its
// resident set (17 MiB on the PyTorch benchmark). The unwinder unmaps them
// again itself, at most every 100 ms while it reads tables; this does it now
// (when tables were read since the last time).
void release_unwind_table_pages();

// After dlclose: rules cached for code that was unloaded must not be used for
// code mapped at the same addresses later.
void forget_frame_rules();

// fork: hold the rule table's lock across fork (as the stack table does).
void frame_rules_lock_for_fork();
void frame_rules_unlock_after_fork();
void frame_rules_reset_in_child();

}  // namespace memtide::agent
