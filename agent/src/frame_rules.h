// How to step from one x86-64 stack frame to its caller, read from the
// DWARF call-frame information (.eh_frame) the loaded objects carry.
//
// memtide's own unwinder (fast_unwind.h) handles the shapes compilers emit
// for ordinary code: the canonical frame address (CFA) is rsp or rbp plus a
// constant (or, in a function that realigns its stack, the word at rbp plus
// a constant), the return address sits just below the CFA, and the caller's
// rbp is kept, or saved at a constant offset. Anything else (signal frames,
// other DWARF expressions, code without unwind information) is reported as
// unsupported, and the capture falls back to libunwind.
#pragma once

#include <cstdint>

namespace memtide::agent {

struct FrameRule {
  enum Kind : uint8_t {
    kEmpty = 0,        // no rule (an empty cache slot)
    kCfaRsp = 1,       // CFA = rsp + cfa_offset
    kCfaRbp = 2,       // CFA = rbp + cfa_offset
    kCfaDerefRbp = 3,  // CFA = *(rbp + cfa_offset): a function that realigned its stack
    kOutermost = 4,    // the return address is undefined: the end of the stack
    kUnsupported = 5,
  };
  enum RbpSave : uint8_t {
    kRbpKept = 0,   // the caller's rbp is the frame's rbp
    kRbpAtCfa = 1,  // saved at CFA + rbp_offset
    kRbpAtRbp = 2,  // saved at rbp + rbp_offset (the realigned-stack pattern)
  };
  Kind kind = kEmpty;
  RbpSave rbp_save = kRbpKept;
  int16_t rbp_offset = 0;
  int32_t cfa_offset = 0;

  // One word, so that a cache slot holds a rule and its key in 16 bytes.
  uint64_t pack() const;
  static FrameRule unpack(uint64_t word);
};

// The rule for the instruction at `pc`, from the call-frame information found
// through the object's PT_GNU_EH_FRAME table at `eh_frame_hdr`. For a caller
// frame pass the return address minus one: the call may be the function's
// last instruction. Reads only mapped, read-only unwind data.
FrameRule rule_from_eh_frame(const uint8_t* eh_frame_hdr, uint64_t pc);

}  // namespace memtide::agent
