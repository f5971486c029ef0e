#include "fast_unwind.h"

#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "event_clock.h"
#include "frame_rules.h"
#include "os_memory.h"
#include "spin_lock.h"

#if defined(__x86_64__)

namespace memtide::agent {
namespace {

struct Registers {
  uint64_t ip, sp, bp;
};

// The registers at the return into its caller: ip is the return address, sp
// the stack pointer after the return, bp the caller's rbp.
extern "C" void memtide_unwind_registers(Registers* out) __attribute__((visibility("hidden")));
asm(R"(
  .text
  .p2align 4
  .globl memtide_unwind_registers
  .hidden memtide_unwind_registers
  .type memtide_unwind_registers, @function
memtide_unwind_registers:
  .cfi_startproc
  movq (%rsp), %rax
  movq %rax, 0(%rdi)
  leaq 8(%rsp), %rax
  movq %rax, 8(%rdi)
  movq %rbp, 16(%rdi)
  ret
  .cfi_endproc
  .size memtide_unwind_registers, .-memtide_unwind_registers
)");

// Stack words of the thread's live frames; under AddressSanitizer, a word the
// previous stack's walk read may now lie in a redzone of a current frame.
__attribute__((no_sanitize("address"))) inline uint64_t load(uint64_t address) {
  return *reinterpret_cast<const uint64_t*>(address);
}

// ---- the rule tables: return address -> rule, lock-free reads ----
//
// Almost every rule fits in 16 bits, so the main table holds one word per
// return address: the address in the high 48 bits, the rule in the low 16,
// read with one atomic load. The PyTorch benchmark has 76,000 return
// addresses: 8-byte slots halve the table and the ones it outgrew. A rule
// that does not fit (a frame over 1 KiB, an odd offset) is marked there and
// kept whole in a second table of 16-byte slots.

// Compact rule: kind (3 bits), rbp_save (2), rbp_offset / 8 (4, signed),
// cfa_offset / 8 (7: 0..1016 bytes; negated for kCfaDerefRbp).
constexpr uint16_t kCompactOverflow = 7;

bool compact_rule(const FrameRule& r, uint16_t& code) {
  if (r.rbp_offset % 8 != 0 || r.rbp_offset < -64 || r.rbp_offset > 56) return false;
  const int32_t cfa = r.kind == FrameRule::kCfaDerefRbp ? -r.cfa_offset : r.cfa_offset;
  if (cfa % 8 != 0 || cfa < 0 || cfa > 1016) return false;
  code = static_cast<uint16_t>(r.kind | r.rbp_save << 3 | ((r.rbp_offset / 8) & 15) << 5 |
                               (cfa / 8) << 9);
  return true;
}

FrameRule expand_rule(uint16_t code) {
  FrameRule r;
  r.kind = static_cast<FrameRule::Kind>(code & 7);
  r.rbp_save = static_cast<FrameRule::RbpSave>((code >> 3) & 3);
  r.rbp_offset = static_cast<int16_t>(static_cast<int8_t>(((code >> 5) & 15) << 4) >> 4) * 8;
  const int32_t cfa = (code >> 9) * 8;
  r.cfa_offset = r.kind == FrameRule::kCfaDerefRbp ? -cfa : cfa;
  return r;
}

template <typename Slot>
struct SlotTable {
  uint32_t bits;  // capacity = 2^bits
  Slot slots[1];
  size_t capacity() const { return size_t(1) << bits; }
  size_t home(uint64_t key) const { return (key * 0x9e3779b97f4a7c15ULL) >> (64 - bits); }
  static size_t bytes_for(uint32_t bits) {
    return sizeof(SlotTable) + ((size_t(1) << bits) - 1) * sizeof(Slot);
  }
};

using WordTable = SlotTable<std::atomic<uint64_t>>;  // ra << 16 | compact rule; 0 = empty

struct WideSlot {
  std::atomic<uint64_t> key;  // a return address; 0 = empty
  std::atomic<uint64_t> rule;
};
using WideTable = SlotTable<WideSlot>;

// A code segment of a loaded object and the object's unwind table.
struct CodeRange {
  uint64_t begin, end;
  const uint8_t* eh_frame_hdr;
};

SpinLock g_miss_lock;  // guards everything below but lookups in the tables
// Bumped by forget_frame_rules(): threads empty their own rule caches.
std::atomic<uint64_t> g_rules_generation{1};
std::atomic<WordTable*> g_rules{nullptr};
std::atomic<WideTable*> g_wide_rules{nullptr};
size_t g_rules_used = 0, g_wide_rules_used = 0;
CodeRange* g_ranges = nullptr;
uint32_t g_range_count = 0, g_range_capacity = 0;
bool g_ranges_valid = false;
unsigned long long g_loader_adds = 0, g_loader_subs = 0;

bool cached_wide_rule(uint64_t ra, FrameRule& out) {
  const WideTable* table = g_wide_rules.load(std::memory_order_acquire);
  if (table == nullptr) return false;
  const size_t mask = table->capacity() - 1;
  for (size_t i = table->home(ra);; i = (i + 1) & mask) {
    const WideSlot& slot = table->slots[i];
    const uint64_t key = slot.key.load(std::memory_order_acquire);
    if (key == 0) return false;
    if (key != ra) continue;
    // Acquire: the key is re-read after the rule, not before it.
    const uint64_t word = slot.rule.load(std::memory_order_acquire);
    // forget_frame_rules() may have emptied the slot meanwhile.
    if (slot.key.load(std::memory_order_relaxed) != ra) return false;
    out = FrameRule::unpack(word);
    return out.kind != FrameRule::kEmpty;
  }
}

__attribute__((always_inline)) inline bool cached_rule(uint64_t ra, FrameRule& out) {
  const WordTable* table = g_rules.load(std::memory_order_acquire);
  if (table == nullptr) return false;
  const size_t mask = table->capacity() - 1;
  for (size_t i = table->home(ra);; i = (i + 1) & mask) {
    const uint64_t word = table->slots[i].load(std::memory_order_acquire);
    if (word == 0) return false;
    if (word >> 16 != ra) continue;
    const uint16_t code = static_cast<uint16_t>(word);
    if ((code & 7) == kCompactOverflow) return cached_wide_rule(ra, out);
    out = expand_rule(code);
    return true;
  }
}

void insert_word(WordTable* table, uint64_t word) {
  const size_t mask = table->capacity() - 1;
  for (size_t i = table->home(word >> 16);; i = (i + 1) & mask) {
    const uint64_t old = table->slots[i].load(std::memory_order_relaxed);
    if (old >> 16 == word >> 16 && old != 0) return;
    if (old != 0) continue;
    table->slots[i].store(word, std::memory_order_release);
    return;
  }
}

void insert_wide(WideTable* table, uint64_t ra, uint64_t rule) {
  const size_t mask = table->capacity() - 1;
  for (size_t i = table->home(ra);; i = (i + 1) & mask) {
    WideSlot& slot = table->slots[i];
    const uint64_t key = slot.key.load(std::memory_order_relaxed);
    if (key == ra) return;
    if (key != 0) continue;
    slot.rule.store(rule, std::memory_order_relaxed);
    slot.key.store(ra, std::memory_order_release);
    return;
  }
}

// Grows at 3/4 load. A replaced table is never unmapped, since readers may
// still be probing it; the tables left behind add up to less than the live one.
template <typename Table, typename Reinsert>
bool ensure_room(std::atomic<Table*>& current, size_t used, Reinsert reinsert) {
  Table* table = current.load(std::memory_order_relaxed);
  if (table != nullptr && (used + 1) * 4 <= table->capacity() * 3) return true;
  const uint32_t bits = table == nullptr ? 12 : table->bits + 1;
  auto* grown = static_cast<Table*>(map_zeroed_random_access(Table::bytes_for(bits)));
  if (grown == nullptr) return false;
  grown->bits = bits;
  if (table != nullptr)
    for (size_t i = 0; i < table->capacity(); ++i) reinsert(grown, table->slots[i]);
  current.store(grown, std::memory_order_release);
  return true;
}

// Records a rule under the miss lock; false when out of memory.
bool remember_rule(uint64_t ra, const FrameRule& rule) {
  uint16_t code;
  if (!compact_rule(rule, code)) {
    const bool room = ensure_room(g_wide_rules, g_wide_rules_used, [](WideTable* t, WideSlot& s) {
      const uint64_t key = s.key.load(std::memory_order_relaxed);
      if (key != 0) insert_wide(t, key, s.rule.load(std::memory_order_relaxed));
    });
    if (!room) return false;
    insert_wide(g_wide_rules.load(std::memory_order_relaxed), ra, rule.pack());
    ++g_wide_rules_used;
    code = kCompactOverflow;
  }
  const bool room = ensure_room(g_rules, g_rules_used, [](WordTable* t, std::atomic<uint64_t>& s) {
    const uint64_t word = s.load(std::memory_order_relaxed);
    if (word != 0) insert_word(t, word);
  });
  if (!room) return false;
  insert_word(g_rules.load(std::memory_order_relaxed), ra << 16 | code);
  ++g_rules_used;
  return true;
}

// ---- code ranges of the loaded objects ----

bool add_range(uint64_t begin, uint64_t end, const uint8_t* hdr) {
  if (g_range_count == g_range_capacity) {
    const uint32_t capacity = g_range_capacity ? g_range_capacity * 2 : 256;
    auto* grown = static_cast<CodeRange*>(map_zeroed(capacity * sizeof(CodeRange)));
    if (grown == nullptr) return false;
    if (g_ranges != nullptr) {
      std::memcpy(grown, g_ranges, g_range_count * sizeof(CodeRange));
      unmap(g_ranges, g_range_capacity * sizeof(CodeRange));
    }
    g_ranges = grown;
    g_range_capacity = capacity;
  }
  uint32_t i = g_range_count++;
  for (; i > 0 && g_ranges[i - 1].begin > begin; --i) g_ranges[i] = g_ranges[i - 1];
  g_ranges[i] = CodeRange{begin, end, hdr};
  return true;
}

int collect_ranges(dl_phdr_info* info, size_t size, void*) {
  if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
    g_loader_adds = info->dlpi_adds;
    g_loader_subs = info->dlpi_subs;
  }
  const uint8_t* hdr = nullptr;
  for (int i = 0; i < info->dlpi_phnum; ++i)
    if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME)
      hdr = reinterpret_cast<const uint8_t*>(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  if (hdr == nullptr) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    const uint64_t begin = info->dlpi_addr + ph.p_vaddr;
    if (!add_range(begin, begin + ph.p_memsz, hdr)) return 1;
  }
  return 0;
}

int read_loader_counters(dl_phdr_info* info, size_t size, void* changed) {
  if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs))
    *static_cast<bool*>(changed) =
        info->dlpi_adds != g_loader_adds || info->dlpi_subs != g_loader_subs;
  return 1;  // the counters come with every object: the first is enough
}

void rebuild_ranges() {
  g_range_count = 0;
  dl_iterate_phdr(collect_ranges, nullptr);
  g_ranges_valid = true;
}

const uint8_t* eh_frame_hdr_for(uint64_t pc) {
  if (!g_ranges_valid) rebuild_ranges();
  for (int attempt = 0; attempt < 2; ++attempt) {
    uint32_t lo = 0, hi = g_range_count;
    while (lo < hi) {
      const uint32_t mid = (lo + hi) / 2;
      if (g_ranges[mid].end <= pc)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < g_range_count && g_ranges[lo].begin <= pc) return g_ranges[lo].eh_frame_hdr;
    // Not in a known object: look again only if objects were loaded since.
    bool changed = true;
    dl_iterate_phdr(read_loader_counters, &changed);
    if (attempt > 0 || !changed) break;
    rebuild_ranges();
  }
  return nullptr;
}

// Drops the process's mappings of one object's unwind-table pages: from the
// page of .eh_frame_hdr to the end of the read-only segment holding it, where
// .eh_frame and .gcc_except_table follow it. Runs inside dl_iterate_phdr,
// whose lock keeps the object from being unmapped meanwhile, so the range is
// still that object's file-backed, never-written mapping: MADV_DONTNEED then
// only unmaps pages that the page cache keeps, and a later read (memtide's
// or the program's own exception handling) maps them again.
int release_object_table_pages(dl_phdr_info* info, size_t, void* vdso) {
  if (info->dlpi_addr == reinterpret_cast<uintptr_t>(vdso)) return 0;  // not file-backed
  uint64_t hdr = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i)
    if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME)
      hdr = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
  if (hdr == 0) return 0;
  const uint64_t page = 4096;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uint64_t begin = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type != PT_LOAD || hdr < begin || hdr >= begin + ph.p_memsz) continue;
    // A writable segment (or one with zero-filled memory) may hold data the
    // program wrote: never touched.
    if ((ph.p_flags & PF_W) || ph.p_filesz != ph.p_memsz) return 0;
    const uint64_t from = hdr & ~(page - 1);
    const uint64_t to = (begin + ph.p_memsz + page - 1) & ~(page - 1);
    madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
    return 0;
  }
  return 0;
}

// Rules read from unwind tables since the last release of their pages, and
// when the next release may be; guarded by g_miss_lock.
uint64_t g_tables_read_since_release = 0;
uint64_t g_next_release_ns = 0;
constexpr uint64_t kReleaseIntervalNs = 100 * 1000 * 1000;

// Under g_miss_lock. The release runs in the thread that read the tables,
// not in the writer: dl_iterate_phdr takes the loader's lock, and a thread
// allocating inside its own dl_iterate_phdr callback may wait for the writer
// (a full ring) while holding it. This thread already takes that lock to find
// the tables (eh_frame_hdr_for), and it is recursive.
void release_table_pages_locked() {
  if (g_tables_read_since_release == 0) return;
  g_tables_read_since_release = 0;
  dl_iterate_phdr(release_object_table_pages, reinterpret_cast<void*>(getauxval(AT_SYSINFO_EHDR)));
}

// Slow path: the rule for a return address seen for the first time.
__attribute__((noinline)) FrameRule learn_rule(uint64_t ra) {
  SpinGuard guard(g_miss_lock);
  FrameRule rule;
  if (cached_rule(ra, rule)) return rule;  // another thread learned it meanwhile
  rule.kind = FrameRule::kUnsupported;
  // A table key holds 48 bits; no user-space code lies above them.
  if (ra > 1 && ra >> 48 == 0) {
    // The call may be the function's last instruction: look up the call itself.
    if (const uint8_t* hdr = eh_frame_hdr_for(ra - 1)) {
      rule = rule_from_eh_frame(hdr, ra - 1);
      ++g_tables_read_since_release;
      // At most every 100 ms: while a program loads, rules are read in
      // bursts, and each release makes the next reads fault their pages in.
      const uint64_t now = monotonic_clock_ns();
      if (now >= g_next_release_ns) {
        release_table_pages_locked();
        g_next_release_ns = now + kReleaseIntervalNs;
      }
    }
    remember_rule(ra, rule);
  }
  return rule;
}

// A rule through the thread's cache, then the process-wide table.
__attribute__((always_inline)) inline FrameRule rule_for(UnwindHistory* history, uint64_t ra) {
  FrameRule rule;
  if (history == nullptr) {
    if (!cached_rule(ra, rule)) rule = learn_rule(ra);
    return rule;
  }
  UnwindHistory::CachedRule& entry = history->rule_cache[((ra * 0x9e3779b97f4a7c15ULL) >> 32) &
                                                         (UnwindHistory::kRuleCacheEntries - 1)];
  if (entry.ra == ra) return FrameRule::unpack(entry.rule);
  if (!cached_rule(ra, rule)) rule = learn_rule(ra);
  entry.ra = ra;
  entry.rule = rule.pack();
  return rule;
}

// Frames of one stack lie within this distance of its innermost frame; a
// computed address outside it means the unwind data or the stack is not
// what the unwinder expects, and libunwind takes over.
constexpr uint64_t kMaxStackSpan = uint64_t(1) << 30;

// Whether walking `b` on from frame j reads rbp's value in frame j: some step
// uses it before one loads the caller's rbp from the stack.
bool depends_on_rbp(const UnwindHistory::Buffer& b, uint32_t j) {
  for (; j < b.count; ++j) {
    const uint8_t bits = b.step_bits[j];
    if (!(bits & kStepKnown) || (bits & kUsesRbp)) return true;
    if (bits & kLoadsRbp) return false;
  }
  return !b.ended;
}

// Frame n of `out` has the registers of frame j of `prev`: re-reads the words
// prev's walk read from frame j on while they match (or until `max_frames`),
// then copies the frames they confirm. Returns how many it copied; frame
// n + copied is the last one taken, its step fields still to be set.
//
// Checking first and copying after keeps the loop to loads and compares: a
// loop that also stored six fields a frame ran short of registers and
// spilled, and was the largest part of a capture on the Python churn.
__attribute__((noinline, no_sanitize("address"))) uint32_t reuse_frames(
    const UnwindHistory::Buffer& prev, const uint32_t j0, UnwindHistory::Buffer& out,
    const uint32_t n0, uint32_t max_frames) {
  // Steps j -> j + 1 exist up to prev.count - 1; frame n + 1 must stay below max_frames.
  const uint32_t last_j = std::min(prev.count - 1, j0 + (max_frames - 1 - n0));
  // rbp as this stack has it differs from prev's where no later step reads
  // it (rbp holding data in code without frame pointers): then rbp is
  // followed frame by frame below instead of copied.
  bool same_rbp = out.bp[n0] == prev.bp[j0];
  uint32_t j = j0;
  for (; j < last_j; ++j) {
    const uint64_t next_sp = prev.sp[j + 1];
    const uint64_t cfa_slot = prev.cfa_slot[j];
    if (cfa_slot != 0 && load(cfa_slot) != next_sp) break;
    if (load(next_sp - 8) != prev.ip[j + 1]) break;
    const uint64_t rbp_slot = prev.rbp_slot[j];
    if (rbp_slot != 0 && load(rbp_slot) != prev.bp[j + 1]) {
      if (depends_on_rbp(prev, j + 1)) break;
      same_rbp = false;
    }
  }
  const uint32_t copied = j - j0;
  // Frames n0 + 1 .. n0 + copied are prev's j0 + 1 .. j, and so are the
  // steps into them.
  std::memcpy(out.ip + n0 + 1, prev.ip + j0 + 1, copied * sizeof(uint64_t));
  std::memcpy(out.sp + n0 + 1, prev.sp + j0 + 1, copied * sizeof(uint64_t));
  std::memcpy(out.rbp_slot + n0, prev.rbp_slot + j0, copied * sizeof(uint64_t));
  std::memcpy(out.cfa_slot + n0, prev.cfa_slot + j0, copied * sizeof(uint64_t));
  std::memcpy(out.step_bits + n0, prev.step_bits + j0, copied);
  if (same_rbp) {
    std::memcpy(out.bp + n0 + 1, prev.bp + j0 + 1, copied * sizeof(uint64_t));
  } else {
    uint64_t bp = out.bp[n0];
    for (uint32_t k = 0; k < copied; ++k) {
      if (const uint64_t rbp_slot = prev.rbp_slot[j0 + k]) bp = load(rbp_slot);
      out.bp[n0 + k + 1] = bp;
    }
  }
  const uint32_t n = n0 + copied;
  out.rbp_slot[n] = out.cfa_slot[n] = 0;
  out.step_bits[n] = 0;
  return copied;
}

}  // namespace

__attribute__((noinline, no_sanitize("address"))) int fast_unwind(UnwindHistory* history,
                                                                  uint64_t* scratch,
                                                                  uint32_t max_frames,
                                                                  const uint64_t** frames,
                                                                  UnwindStats* stats) {
  Registers regs;
  memtide_unwind_registers(&regs);
  if (max_frames > UnwindHistory::kMaxFrames) max_frames = UnwindHistory::kMaxFrames;
  if (max_frames == 0) return 0;

  const UnwindHistory::Buffer* prev = nullptr;
  UnwindHistory::Buffer* out = nullptr;
  uint64_t* ips = scratch;
  if (history != nullptr) {
    const uint64_t generation = g_rules_generation.load(std::memory_order_acquire);
    if (__builtin_expect(history->rules_generation != generation, 0)) {
      std::memset(history->rule_cache, 0, sizeof(history->rule_cache));
      history->rules_generation = generation;
    }
    prev = &history->buffers[history->current & 1];
    out = &history->buffers[(history->current & 1) ^ 1];
    ips = out->ip;
    if (prev->count == 0) prev = nullptr;
  }
  const uint64_t stack_low = regs.sp;
  auto in_stack = [stack_low](uint64_t address) {
    return address >= stack_low && address - stack_low < kMaxStackSpan;
  };

  uint64_t ip = regs.ip, sp = regs.sp, bp = regs.bp;
  uint32_t n = 0;       // frame being recorded
  uint32_t cursor = 0;  // first frame of `prev` whose sp is not below sp
  const uint32_t prev_count = prev != nullptr ? prev->count : 0;
  bool joined_at_top = false;
  uint32_t shared_tail = 0;
  uint64_t walked = 0, reused = 0;
  bool ended = false;
  for (;;) {
    ips[n] = ip;
    if (out != nullptr) {
      out->sp[n] = sp;
      out->bp[n] = bp;
      out->rbp_slot[n] = out->cfa_slot[n] = 0;
      out->step_bits[n] = 0;
    }
    if (prev != nullptr) {
      while (cursor < prev->count && prev->sp[cursor] < sp) ++cursor;
      if (cursor < prev->count && prev->sp[cursor] == sp && prev->ip[cursor] == ip &&
          (prev->bp[cursor] == bp || !depends_on_rbp(*prev, cursor))) {
        // Same registers as a frame of the previous stack: re-read the words
        // its walk read from here on, and keep its frames while they match.
        if (n == 0 && cursor == 0) joined_at_top = true;
        const uint32_t copied = reuse_frames(*prev, cursor, *out, n, max_frames);
        const uint32_t j = cursor + copied;
        n += copied;
        reused += copied;
        if (j + 1 == prev->count && prev->ended) {
          out->step_bits[n] = prev->step_bits[j];
          shared_tail = prev->count - cursor;
          ended = true;
          break;
        }
        ip = ips[n];
        sp = out->sp[n];
        bp = out->bp[n];
        // The stacks part below frame j (a different caller, a different
        // path at the same depth): walk on, and join the previous stack
        // again where a frame below has the same registers. A loop that
        // allocates from several call sites in one function joins at the
        // top, parts at the function's own return address and joins again
        // at its caller's frame, so its outer frames are still shared.
        cursor = j + 1;
      }
    }
    if (n + 1 >= max_frames) break;

    const FrameRule rule = rule_for(history, ip);
    if (rule.kind == FrameRule::kOutermost) {
      if (out != nullptr) out->step_bits[n] = kStepKnown;
      ended = true;
      break;
    }
    uint64_t cfa, cfa_slot = 0, rbp_slot = 0;
    switch (rule.kind) {
      case FrameRule::kCfaRsp:
        cfa = sp + static_cast<int64_t>(rule.cfa_offset);
        break;
      case FrameRule::kCfaRbp:
        cfa = bp + static_cast<int64_t>(rule.cfa_offset);
        break;
      case FrameRule::kCfaDerefRbp:
        cfa_slot = bp + static_cast<int64_t>(rule.cfa_offset);
        if (!in_stack(cfa_slot)) return -1;
        cfa = load(cfa_slot);
        break;
      default:
        return -1;
    }
    if (cfa <= sp || !in_stack(cfa)) return -1;
    const uint64_t ra = load(cfa - 8);
    uint64_t next_bp = bp;
    if (rule.rbp_save != FrameRule::kRbpKept) {
      rbp_slot = (rule.rbp_save == FrameRule::kRbpAtCfa ? cfa : bp) +
                 static_cast<int64_t>(rule.rbp_offset);
      if (!in_stack(rbp_slot)) return -1;
      next_bp = load(rbp_slot);
    }
    ++walked;
    // libunwind's end of stack too: no code lives in the first pages.
    if (ra < 0x4000) break;
    if (out != nullptr) {
      out->rbp_slot[n] = rbp_slot;
      out->cfa_slot[n] = cfa_slot;
      const bool uses_rbp =
          rule.kind != FrameRule::kCfaRsp || rule.rbp_save == FrameRule::kRbpAtRbp;
      out->step_bits[n] = kStepKnown | (uses_rbp ? kUsesRbp : 0) |
                          (rule.rbp_save != FrameRule::kRbpKept ? kLoadsRbp : 0);
    }
    ++n;
    ip = ra;
    sp = cfa;
    bp = next_bp;
  }
  const uint32_t count = n + 1;
  if (history != nullptr) {
    out->count = count;
    out->ended = ended;
    history->current = (history->current & 1) ^ 1;
    history->repeated = joined_at_top && walked == 0 && count == prev_count;
    history->shared_tail = shared_tail;
  }
  if (stats != nullptr) {
    stats->frames_walked += walked;
    stats->frames_reused += reused;
  }
  *frames = ips;
  return static_cast<int>(count);
}

void release_unwind_table_pages() {
  SpinGuard guard(g_miss_lock);
  release_table_pages_locked();
}

void forget_frame_rules() {
  SpinGuard guard(g_miss_lock);
  if (WordTable* table = g_rules.load(std::memory_order_relaxed))
    for (size_t i = 0; i < table->capacity(); ++i)
      table->slots[i].store(0, std::memory_order_relaxed);
  if (WideTable* table = g_wide_rules.load(std::memory_order_relaxed))
    for (size_t i = 0; i < table->capacity(); ++i)
      table->slots[i].key.store(0, std::memory_order_relaxed);
  g_rules_used = g_wide_rules_used = 0;
  g_ranges_valid = false;
  g_rules_generation.fetch_add(1, std::memory_order_release);
}

void frame_rules_lock_for_fork() {
  g_miss_lock.lock();
}
void frame_rules_unlock_after_fork() {
  g_miss_lock.unlock();
}
void frame_rules_reset_in_child() {
  g_miss_lock.reset();
}

}  // namespace memtide::agent

#else  // not x86-64: every capture uses libunwind

namespace memtide::agent {
int fast_unwind(UnwindHistory*, uint64_t*, uint32_t, const uint64_t**, UnwindStats*) {
  return -1;
}
void release_unwind_table_pages() {}
void forget_frame_rules() {}
void frame_rules_lock_for_fork() {}
void frame_rules_unlock_after_fork() {}
void frame_rules_reset_in_child() {}
}  // namespace memtide::agent

#endif
