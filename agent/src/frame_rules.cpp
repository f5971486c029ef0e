#include "frame_rules.h"

#include <cstring>

namespace memtide::agent {
namespace {

// DWARF register numbers on x86-64.
constexpr uint32_t kRegRbp = 6;
constexpr uint32_t kRegRsp = 7;
constexpr uint32_t kRegReturnAddress = 16;

// Pointer encodings (DW_EH_PE_*).
constexpr uint8_t kEncOmit = 0xff;
constexpr uint8_t kEncPcrel = 0x10;
constexpr uint8_t kEncDatarel = 0x30;
constexpr uint8_t kEncIndirect = 0x80;
constexpr uint8_t kEncDatarelSdata4 = 0x3b;

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;

  bool need(size_t n) {
    if (static_cast<size_t>(end - p) < n) ok = false;
    return ok;
  }
  template <typename T>
  T fixed() {
    T v{};
    if (!need(sizeof(T))) return v;
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  uint8_t u8() { return fixed<uint8_t>(); }
  uint64_t uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; need(1); shift += 7) {
      const uint8_t b = *p++;
      if (shift < 64) v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    return v;
  }
  int64_t sleb() {
    int64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    while (need(1)) {
      b = *p++;
      if (shift < 64) v |= int64_t(b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if (shift < 64 && (b & 0x40)) v |= -(int64_t(1) << shift);
    return v;
  }
  // An encoded pointer. `data_base` is what datarel values are relative to.
  uint64_t encoded(uint8_t encoding, uint64_t data_base = 0) {
    if (encoding == kEncOmit) return 0;
    const uint64_t field = reinterpret_cast<uint64_t>(p);
    uint64_t v = 0;
    switch (encoding & 0x0f) {
      case 0x00:
        v = fixed<uint64_t>();
        break;
      case 0x01:
        v = uleb();
        break;
      case 0x02:
        v = fixed<uint16_t>();
        break;
      case 0x03:
        v = fixed<uint32_t>();
        break;
      case 0x04:
        v = fixed<uint64_t>();
        break;
      case 0x09:
        v = static_cast<uint64_t>(sleb());
        break;
      case 0x0a:
        v = static_cast<uint64_t>(int64_t(fixed<int16_t>()));
        break;
      case 0x0b:
        v = static_cast<uint64_t>(int64_t(fixed<int32_t>()));
        break;
      case 0x0c:
        v = fixed<uint64_t>();
        break;
      default:
        ok = false;
        return 0;
    }
    switch (encoding & 0x70) {
      case 0x00:
        break;
      case kEncPcrel:
        v += field;
        break;
      case kEncDatarel:
        v += data_base;
        break;
      default:
        ok = false;
        return 0;  // textrel, funcrel, aligned: not used in .eh_frame
    }
    if ((encoding & kEncIndirect) && ok) std::memcpy(&v, reinterpret_cast<const void*>(v), 8);
    return v;
  }
};

// A record's extent from its length field: [content, end).
bool record_bounds(const uint8_t* record, const uint8_t*& content, const uint8_t*& end) {
  uint32_t length32;
  std::memcpy(&length32, record, 4);
  if (length32 == 0) return false;  // terminator
  if (length32 == 0xffffffffu) {
    uint64_t length64;
    std::memcpy(&length64, record + 4, 8);
    content = record + 12;
    end = content + length64;
  } else {
    content = record + 4;
    end = content + length32;
  }
  return true;
}

struct Cie {
  uint64_t code_align = 1;
  int64_t data_align = 1;
  uint32_t return_register = kRegReturnAddress;
  uint8_t fde_encoding = 0;
  bool has_augmentation_data = false;
  bool signal_frame = false;
  const uint8_t* instructions = nullptr;
  const uint8_t* end = nullptr;
};

bool parse_cie(const uint8_t* record, Cie& cie) {
  const uint8_t *content, *end;
  if (!record_bounds(record, content, end)) return false;
  Reader r{content, end};
  if (r.fixed<uint32_t>() != 0) return false;  // a CIE's id is 0 in .eh_frame
  const uint8_t version = r.u8();
  const char* augmentation = reinterpret_cast<const char*>(r.p);
  const size_t augmentation_length = strnlen(augmentation, static_cast<size_t>(end - r.p));
  if (!r.need(augmentation_length + 1)) return false;
  r.p += augmentation_length + 1;
  if (std::strstr(augmentation, "eh") != nullptr) return false;  // pre-GCC-3 layout
  cie.code_align = r.uleb();
  cie.data_align = r.sleb();
  cie.return_register = version == 1 ? r.u8() : static_cast<uint32_t>(r.uleb());
  const uint8_t* after_augmentation = nullptr;
  if (augmentation[0] == 'z') {
    cie.has_augmentation_data = true;
    const uint64_t length = r.uleb();
    if (!r.need(length)) return false;
    after_augmentation = r.p + length;
    for (const char* a = augmentation + 1; *a != '\0' && r.ok; ++a) {
      if (*a == 'R') {
        cie.fde_encoding = r.u8();
      } else if (*a == 'L') {
        r.u8();
      } else if (*a == 'P') {
        const uint8_t encoding = r.u8();
        r.encoded(encoding & ~kEncIndirect);  // skipped: the personality is not needed
      } else if (*a == 'S') {
        cie.signal_frame = true;
      } else {
        break;  // unknown letters: the augmentation length still lets us skip them
      }
    }
    r.p = after_augmentation;
  } else if (augmentation[0] != '\0') {
    return false;
  }
  cie.instructions = r.p;
  cie.end = end;
  return r.ok;
}

// The register rules memtide tracks while running CFA instructions.
struct RegisterRule {
  enum Kind : uint8_t { kSame, kUndefined, kAtCfa, kAtRbp, kOther };
  Kind kind = kSame;
  int64_t offset = 0;
};

struct CfaState {
  uint32_t cfa_register = kRegRsp;
  int64_t cfa_offset = 8;
  bool cfa_deref_rbp = false;  // CFA = *(rbp + cfa_offset)
  bool cfa_unsupported = false;
  RegisterRule rbp;
  RegisterRule return_address;
};

class CfaMachine {
 public:
  CfaMachine(const Cie& cie, uint64_t target) : cie_(cie), target_(target) {}

  // Runs instructions from `p` to `end`, starting at code address `location`.
  // Returns false on malformed or unknown instructions. Stops early once the
  // location passes the target.
  bool run(const uint8_t* p, const uint8_t* end, uint64_t location) {
    location_ = location;
    Reader r{p, end};
    while (r.p < r.end && r.ok) {
      const uint8_t op = r.u8();
      const uint8_t low = op & 0x3f;
      switch (op & 0xc0) {
        case 0x40:
          if (!advance(low * cie_.code_align)) return true;
          continue;
        case 0x80:
          set_offset(low, static_cast<int64_t>(r.uleb()) * cie_.data_align);
          continue;
        case 0xc0:
          restore(low);
          continue;
        default:
          break;
      }
      switch (op) {
        case 0x00:
          break;  // nop
        case 0x01:
          return false;  // set_loc: unused by GCC/Clang
        case 0x02:
          if (!advance(r.u8() * cie_.code_align)) return true;
          break;
        case 0x03:
          if (!advance(r.fixed<uint16_t>() * cie_.code_align)) return true;
          break;
        case 0x04:
          if (!advance(r.fixed<uint32_t>() * cie_.code_align)) return true;
          break;
        case 0x05: {  // offset_extended
          const uint64_t reg = r.uleb();
          set_offset(reg, static_cast<int64_t>(r.uleb()) * cie_.data_align);
          break;
        }
        case 0x06:
          restore(r.uleb());
          break;  // restore_extended
        case 0x07:
          set_rule(r.uleb(), {RegisterRule::kUndefined, 0});
          break;
        case 0x08:
          set_rule(r.uleb(), {RegisterRule::kSame, 0});
          break;
        case 0x09: {  // register: a value in another register
          const uint64_t reg = r.uleb();
          r.uleb();
          set_rule(reg, {RegisterRule::kOther, 0});
          break;
        }
        case 0x0a:  // remember_state
          if (saved_count_ == kMaxSaved) return false;
          saved_[saved_count_++] = state_;
          break;
        case 0x0b:  // restore_state
          if (saved_count_ == 0) return false;
          state_ = saved_[--saved_count_];
          break;
        case 0x0c:  // def_cfa
          state_.cfa_register = static_cast<uint32_t>(r.uleb());
          state_.cfa_offset = static_cast<int64_t>(r.uleb());
          state_.cfa_deref_rbp = state_.cfa_unsupported = false;
          break;
        case 0x0d:  // def_cfa_register
          state_.cfa_register = static_cast<uint32_t>(r.uleb());
          state_.cfa_deref_rbp = state_.cfa_unsupported = false;
          break;
        case 0x0e:
          state_.cfa_offset = static_cast<int64_t>(r.uleb());
          break;
        case 0x0f: {  // def_cfa_expression
          const uint64_t length = r.uleb();
          if (!r.need(length)) return false;
          def_cfa_expression(r.p, length);
          r.p += length;
          break;
        }
        case 0x10: {  // expression: the register is saved at the address it computes
          const uint64_t reg = r.uleb();
          const uint64_t length = r.uleb();
          if (!r.need(length)) return false;
          set_rule(reg, expression_rule(r.p, length));
          r.p += length;
          break;
        }
        case 0x11: {  // offset_extended_sf
          const uint64_t reg = r.uleb();
          set_offset(reg, r.sleb() * cie_.data_align);
          break;
        }
        case 0x12:  // def_cfa_sf
          state_.cfa_register = static_cast<uint32_t>(r.uleb());
          state_.cfa_offset = r.sleb() * cie_.data_align;
          state_.cfa_deref_rbp = state_.cfa_unsupported = false;
          break;
        case 0x13:
          state_.cfa_offset = r.sleb() * cie_.data_align;
          break;
        case 0x14:    // val_offset
        case 0x15: {  // val_offset_sf
          const uint64_t reg = r.uleb();
          if (op == 0x14)
            r.uleb();
          else
            r.sleb();
          set_rule(reg, {RegisterRule::kOther, 0});
          break;
        }
        case 0x16: {  // val_expression
          const uint64_t reg = r.uleb();
          const uint64_t length = r.uleb();
          if (!r.need(length)) return false;
          r.p += length;
          set_rule(reg, {RegisterRule::kOther, 0});
          break;
        }
        case 0x2e:
          r.uleb();
          break;      // GNU_args_size
        case 0x2f: {  // GNU_negative_offset_extended
          const uint64_t reg = r.uleb();
          set_offset(reg, -static_cast<int64_t>(r.uleb()) * cie_.data_align);
          break;
        }
        default:
          return false;
      }
    }
    return r.ok;
  }

  // After the CIE's initial instructions: DW_CFA_restore goes back to these.
  void mark_initial() { initial_ = state_; }
  const CfaState& state() const { return state_; }

 private:
  // False once the location moves past the target: the rules are complete.
  bool advance(uint64_t delta) {
    location_ += delta;
    return location_ <= target_;
  }
  RegisterRule* rule_for(uint64_t reg) {
    if (reg == kRegRbp) return &state_.rbp;
    if (reg == cie_.return_register) return &state_.return_address;
    return nullptr;
  }
  void set_rule(uint64_t reg, RegisterRule rule) {
    if (RegisterRule* r = rule_for(reg)) *r = rule;
  }
  void set_offset(uint64_t reg, int64_t offset) { set_rule(reg, {RegisterRule::kAtCfa, offset}); }
  void restore(uint64_t reg) {
    if (reg == kRegRbp) state_.rbp = initial_.rbp;
    if (reg == cie_.return_register) state_.return_address = initial_.return_address;
  }
  // DW_OP_breg6 (rbp) <sleb offset> [DW_OP_deref]: the realigned-stack
  // patterns GCC emits. Anything else is unsupported.
  static bool parse_breg_rbp(const uint8_t* p, uint64_t length, int64_t& offset, bool& deref) {
    if (length < 2 || p[0] != 0x76) return false;
    Reader r{p + 1, p + length};
    offset = r.sleb();
    deref = false;
    if (r.ok && r.p < r.end && *r.p == 0x06) {
      deref = true;
      ++r.p;
    }
    return r.ok && r.p == r.end;
  }
  void def_cfa_expression(const uint8_t* p, uint64_t length) {
    int64_t offset;
    bool deref;
    state_.cfa_deref_rbp = false;
    state_.cfa_unsupported = true;
    if (parse_breg_rbp(p, length, offset, deref) && deref) {
      state_.cfa_unsupported = false;
      state_.cfa_deref_rbp = true;
      state_.cfa_offset = offset;
    }
  }
  static RegisterRule expression_rule(const uint8_t* p, uint64_t length) {
    int64_t offset;
    bool deref;
    if (parse_breg_rbp(p, length, offset, deref) && !deref) return {RegisterRule::kAtRbp, offset};
    return {RegisterRule::kOther, 0};
  }

  static constexpr int kMaxSaved = 8;
  const Cie& cie_;
  uint64_t target_;
  uint64_t location_ = 0;
  CfaState state_;
  CfaState initial_;
  CfaState saved_[kMaxSaved];
  int saved_count_ = 0;
};

FrameRule to_frame_rule(const CfaState& s) {
  FrameRule rule;
  rule.kind = FrameRule::kUnsupported;
  if (s.return_address.kind == RegisterRule::kUndefined) {
    rule.kind = FrameRule::kOutermost;
    return rule;
  }
  if (s.cfa_unsupported) return rule;
  if (s.return_address.kind != RegisterRule::kAtCfa || s.return_address.offset != -8) return rule;
  if (s.cfa_offset < INT32_MIN || s.cfa_offset > INT32_MAX) return rule;
  switch (s.rbp.kind) {
    case RegisterRule::kSame:
      rule.rbp_save = FrameRule::kRbpKept;
      break;
    case RegisterRule::kAtCfa:
    case RegisterRule::kAtRbp:
      if (s.rbp.offset < INT16_MIN || s.rbp.offset > INT16_MAX) return rule;
      rule.rbp_save =
          s.rbp.kind == RegisterRule::kAtCfa ? FrameRule::kRbpAtCfa : FrameRule::kRbpAtRbp;
      rule.rbp_offset = static_cast<int16_t>(s.rbp.offset);
      break;
    default:
      return rule;  // undefined or in another register: libunwind handles those
  }
  rule.cfa_offset = static_cast<int32_t>(s.cfa_offset);
  if (s.cfa_deref_rbp) {
    rule.kind = FrameRule::kCfaDerefRbp;
  } else if (s.cfa_register == kRegRsp) {
    rule.kind = FrameRule::kCfaRsp;
  } else if (s.cfa_register == kRegRbp) {
    rule.kind = FrameRule::kCfaRbp;
  }
  return rule;
}

// The FDE covering `pc`, by binary search of the .eh_frame_hdr table.
const uint8_t* find_fde(const uint8_t* hdr, uint64_t pc) {
  if (hdr[0] != 1) return nullptr;
  const uint8_t frame_pointer_encoding = hdr[1], count_encoding = hdr[2], table_encoding = hdr[3];
  if (table_encoding != kEncDatarelSdata4 || count_encoding == kEncOmit) return nullptr;
  const uint64_t base = reinterpret_cast<uint64_t>(hdr);
  Reader r{hdr + 4, hdr + 4 + 32};
  r.encoded(frame_pointer_encoding, base);
  const uint64_t count = r.encoded(count_encoding, base);
  if (!r.ok || count == 0) return nullptr;
  const auto* table = reinterpret_cast<const int32_t*>(r.p);  // pairs: start, fde
  uint64_t lo = 0, hi = count;  // find the last entry whose start <= pc
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (base + static_cast<int64_t>(table[2 * mid]) <= pc)
      lo = mid;
    else
      hi = mid;
  }
  if (base + static_cast<int64_t>(table[2 * lo]) > pc) return nullptr;
  return reinterpret_cast<const uint8_t*>(base + static_cast<int64_t>(table[2 * lo + 1]));
}

}  // namespace

uint64_t FrameRule::pack() const {
  return uint64_t(kind) | uint64_t(rbp_save) << 8 |
         uint64_t(static_cast<uint16_t>(rbp_offset)) << 16 |
         uint64_t(static_cast<uint32_t>(cfa_offset)) << 32;
}

FrameRule FrameRule::unpack(uint64_t word) {
  FrameRule rule;
  rule.kind = static_cast<Kind>(word & 0xff);
  rule.rbp_save = static_cast<RbpSave>((word >> 8) & 0xff);
  rule.rbp_offset = static_cast<int16_t>(word >> 16);
  rule.cfa_offset = static_cast<int32_t>(word >> 32);
  return rule;
}

FrameRule rule_from_eh_frame(const uint8_t* eh_frame_hdr, uint64_t pc) {
  FrameRule unsupported;
  unsupported.kind = FrameRule::kUnsupported;
  const uint8_t* fde = find_fde(eh_frame_hdr, pc);
  if (fde == nullptr) return unsupported;
  const uint8_t *content, *end;
  if (!record_bounds(fde, content, end)) return unsupported;
  uint32_t cie_delta;
  std::memcpy(&cie_delta, content, 4);
  if (cie_delta == 0) return unsupported;  // a CIE, not an FDE
  Cie cie;
  if (!parse_cie(content - cie_delta, cie) || cie.signal_frame) return unsupported;
  Reader r{content + 4, end};
  const uint64_t pc_begin = r.encoded(cie.fde_encoding);
  const uint64_t pc_range = r.encoded(cie.fde_encoding & 0x0f);
  if (!r.ok || pc < pc_begin || pc - pc_begin >= pc_range) return unsupported;
  if (cie.has_augmentation_data) {
    const uint64_t length = r.uleb();
    if (!r.need(length)) return unsupported;
    r.p += length;
  }
  CfaMachine machine(cie, pc);
  if (!machine.run(cie.instructions, cie.end, pc_begin)) return unsupported;
  machine.mark_initial();
  if (!machine.run(r.p, end, pc_begin)) return unsupported;
  return to_frame_rule(machine.state());
}

}  // namespace memtide::agent
