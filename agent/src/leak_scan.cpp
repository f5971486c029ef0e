#include "leak_scan.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

#include "agent_state.h"
#include "memory_map.h"
#include "os_memory.h"
#include "real_functions.h"
#include "resident_pages.h"
#include "thread_ring.h"
#include "world_stop.h"

namespace memtide::agent {
namespace {

constexpr int kStopTimeoutMs = 500;
constexpr uint64_t kRedZone = 128;  // x86-64 leaf functions use 128 bytes below the stack pointer
constexpr uint32_t kMaxFaults = 64;
constexpr uint64_t kArenaHeapSize = uint64_t(64) << 20;  // glibc HEAP_MAX_SIZE on 64-bit
constexpr uint64_t kChunkIsMmapped = 2, kChunkNonMainArena = 4;
constexpr uint32_t kMaxDeadStacks = 4096;

// Known before the scan, while asking the loader is still safe.
struct Preparation {
  AddressRange agent_image{0, 0};
  AddressRange writer_stack{0, 0};
  bool glibc_malloc = false;
};
Preparation g_prepared;

struct ExitingThread {
  std::atomic<pid_t> tid{0};
  uint64_t stack_pointer = 0;
  uint64_t interrupted_stack_pointer = 0;
  bool has_registers = false;
  uint64_t registers[kSavedRegisters] = {};
};
ExitingThread g_exiting;

struct DeadStacks {
  std::atomic<uint32_t> count{0};
  AddressRange ranges[kMaxDeadStacks];
};
DeadStacks g_dead_stacks;

// Everything the scan changes lives here rather than in locals: a fault
// jumps back into run_leak_scan, and locals changed since sigsetjmp would
// have indeterminate values.
struct ScanState {
  MappedVector<char> maps_text;
  MappedVector<Mapping> mappings;
  MappedVector<AddressRange> excluded;
  MappedVector<AddressRange> roots;
  MappedVector<AddressRange> root_candidates;  // before untouched pages are left out
  MappedVector<uint64_t> register_words;
  MappedVector<uint64_t> arena_heaps;
  LeakClassifier classifier;
  int64_t root_being_read = -1;
  uint32_t faults = 0;
  uint64_t last_fault_address = 0;
  sigjmp_buf recovery;
  std::atomic<pid_t> recovering_tid{0};
};
ScanState* g_scan = nullptr;

uint64_t monotonic_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

pid_t current_tid() {
  return static_cast<pid_t>(syscall(SYS_gettid));
}

int find_agent_image(struct dl_phdr_info* info, size_t, void*) {
  const uint64_t probe = reinterpret_cast<uint64_t>(&prepare_leak_scan);
  uint64_t low = UINT64_MAX, high = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    low = std::min<uint64_t>(low, info->dlpi_addr + ph.p_vaddr);
    high = std::max<uint64_t>(high, info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
  }
  if (probe < low || probe >= high) return 0;
  g_prepared.agent_image = {low & ~uint64_t(4095), (high + 4095) & ~uint64_t(4095)};
  return 1;
}

bool stack_of_current_thread(AddressRange& range) {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return false;
  void* address = nullptr;
  size_t size = 0;
  const bool ok = pthread_attr_getstack(&attr, &address, &size) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) return false;
  range = {reinterpret_cast<uint64_t>(address), reinterpret_cast<uint64_t>(address) + size};
  return true;
}

// glibc's chunk header: the size word just below the block.
uint64_t chunk_size_word(uint64_t block) {
  return *reinterpret_cast<const uint64_t*>(block - 8);
}

// glibc's bins and top pointer hold the header of the chunk after a block,
// which lies in that block's last bytes: not a pointer to the block. A
// thread's control block points at entry 1 of its dynamic thread vector
// (dtv_t entries of 16 bytes; entry 0 counts the entries, allocated with two
// more): the vector is the thread's, reachable with it. Valgrind reports it
// as possibly lost for every thread; LeakSanitizer knows it as glibc's.
LeakClassifier::Interior glibc_interior(const LiveBlock& block, uint64_t pointer, void*) {
  using Interior = LeakClassifier::Interior;
  const uint64_t word = chunk_size_word(block.address);
  if (!(word & kChunkIsMmapped) && pointer == block.address - 16 + (word & ~uint64_t(7)))
    return Interior::kIgnore;
  if (pointer == block.address + 16 && block.size >= 48 && block.size % 16 == 0 &&
      *reinterpret_cast<const uint64_t*>(block.address) == block.size / 16 - 2)
    return Interior::kStart;
  // The dynamic loader over-aligns some of its objects inside a malloc'd
  // block and keeps the block's start beside them to free it
  // (_dl_find_object's segments: previous, to_free, ...).
  if (pointer % 8 == 0 && pointer + 16 <= block.address + block.size &&
      reinterpret_cast<const uint64_t*>(pointer)[1] == block.address)
    return Interior::kStart;
  return Interior::kInterior;
}

bool add_excluded(uint64_t begin, uint64_t end) {
  return begin >= end || g_scan->excluded.push_back(AddressRange{begin, end});
}

// The stack below a thread's stack pointer (and its red zone) is dead.
bool exclude_below(uint64_t stack_pointer) {
  if (stack_pointer == 0) return true;
  const Mapping* m = mapping_containing(g_scan->mappings, stack_pointer);
  if (m == nullptr) return true;
  const uint64_t live = stack_pointer > kRedZone ? stack_pointer - kRedZone : 0;
  return add_excluded(m->begin, std::max(m->begin, live));
}

bool contains_known_stack_pointer(const AddressRange& range, const WorldStopResult& world) {
  auto inside = [&range](uint64_t sp) { return sp >= range.begin && sp < range.end; };
  if (inside(g_exiting.stack_pointer) || inside(g_exiting.interrupted_stack_pointer)) return true;
  for (uint32_t i = 0; i < world.count; ++i)
    if (world.threads[i].state.load() == kStopped && inside(world.threads[i].stack_pointer))
      return true;
  return false;
}

// glibc's arena heaps (64 MiB aligned, heap_info first) hold the program's
// blocks and the stale contents of free chunks: blocks are scanned when
// reached, the rest never.
// A mapping that only looks like one (any anonymous mapping starting on a
// 64 MiB boundary; the one right above a heap's reservation often does) may
// be the agent's own, unmapped since /proc/self/maps was read: the header is
// read through the kernel, which fails instead of faulting.
bool exclude_arena_heap(uint64_t base) {
  const Mapping* m = mapping_containing(g_scan->mappings, base);
  if (m == nullptr || !m->readable || m->end - base < 64) return true;
  uint64_t info[3];
  struct iovec local = {info, sizeof(info)};
  struct iovec remote = {reinterpret_cast<void*>(base), sizeof(info)};
  if (syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0) !=
      static_cast<long>(sizeof(info)))
    return true;
  const uint64_t arena = info[0], size = info[2];
  if (arena == 0 || size == 0 || size > kArenaHeapSize || (size & 4095) != 0) return true;
  if ((arena & (kArenaHeapSize - 1)) > 4096)
    return true;  // ar_ptr points into a heap's header page
  return add_excluded(base, base + size);
}

bool build_exclusions(const WorldStopResult& world) {
  ScanState& s = *g_scan;
  s.excluded.clear();
  for (uint32_t i = 0, n = own_mapping_count(); i < n; ++i) {
    const OwnMapping m = own_mapping_at(i);
    if (m.end != 0 && !add_excluded(m.begin, m.end)) return false;
  }
  if (!add_excluded(g_prepared.agent_image.begin, g_prepared.agent_image.end) ||
      !add_excluded(g_prepared.writer_stack.begin, g_prepared.writer_stack.end))
    return false;
  if (!exclude_below(g_exiting.stack_pointer) ||
      !exclude_below(g_exiting.interrupted_stack_pointer))
    return false;
  for (uint32_t i = 0; i < world.count; ++i)
    if (world.threads[i].state.load() == kStopped && !exclude_below(world.threads[i].stack_pointer))
      return false;
  // Stacks of threads that exited, unless a live thread got the stack again.
  // With a thread that did not stop, whose stack is unknown, none is left out.
  if (world.unresponsive == 0) {
    const uint32_t dead = std::min(g_dead_stacks.count.load(), kMaxDeadStacks);
    for (uint32_t i = 0; i < dead; ++i) {
      const AddressRange r = g_dead_stacks.ranges[i];
      if (!contains_known_stack_pointer(r, world) && !add_excluded(r.begin, r.end)) return false;
    }
  }
  return true;
}

// Heap memory is read block by block, never as a root.
bool exclude_heap_memory(const MappedVector<LiveBlock>& blocks) {
  ScanState& s = *g_scan;
  s.arena_heaps.clear();
  for (const Mapping& m : s.mappings)
    if (m.kind == MappingKind::kHeap && !add_excluded(m.begin, m.end)) return false;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const LiveBlock& b = blocks[i];
    const uint64_t end = b.address + b.size;
    if (!g_prepared.glibc_malloc) {
      if (!add_excluded(b.address, end)) return false;
      continue;
    }
    const Mapping* m = mapping_containing(s.mappings, b.address);
    if (m == nullptr || !m->readable || b.address - 8 < m->begin) continue;
    const uint64_t word = chunk_size_word(b.address);
    if (word & kChunkIsMmapped) {
      if (!add_excluded((b.address - 16) & ~uint64_t(4095), (end + 4095) & ~uint64_t(4095)))
        return false;
    } else if (word & kChunkNonMainArena) {
      const uint64_t base = b.address & ~(kArenaHeapSize - 1);
      if (s.arena_heaps.empty() || s.arena_heaps.back() != base) {
        if (!s.arena_heaps.push_back(base)) return false;
      }
    } else if (!add_excluded(b.address, end)) {
      return false;
    }
  }
  // Arena heaps with no live block left still hold stale pointers.
  for (const Mapping& m : s.mappings)
    if ((m.begin & (kArenaHeapSize - 1)) == 0 && m.kind == MappingKind::kAnonymous && m.readable &&
        m.writable && !s.arena_heaps.push_back(m.begin))
      return false;
  std::sort(s.arena_heaps.begin(), s.arena_heaps.end());
  uint64_t previous = 0;
  for (uint64_t base : s.arena_heaps) {
    if (base == previous) continue;
    previous = base;
    if (!exclude_arena_heap(base)) return false;
  }
  return true;
}

bool is_root_mapping(const Mapping& m) {
  if (!m.readable || !m.writable || m.shared) return false;
  return m.kind == MappingKind::kAnonymous || m.kind == MappingKind::kFile ||
         m.kind == MappingKind::kStack;
}

// A block that is not wholly inside readable memory is never read: the
// live set may be wrong about it (a free the agent could not see).
void mark_unreadable_blocks(const MappedVector<LiveBlock>& blocks) {
  ScanState& s = *g_scan;
  for (size_t i = 0; i < blocks.size(); ++i) {
    // The chunk header below the block is read too (glibc_interior).
    uint64_t cursor = blocks[i].address - 8;
    const uint64_t end = blocks[i].address + std::max<uint64_t>(blocks[i].size, 8);
    bool readable = true;
    while (readable && cursor < end) {
      const Mapping* m = mapping_containing(s.mappings, cursor);
      readable = m != nullptr && m->readable && m->kind != MappingKind::kDevice;
      if (readable) cursor = m->end;
    }
    if (!readable) s.classifier.mark_unreadable(i);
  }
}

void collect_register_words(const WorldStopResult& world) {
  ScanState& s = *g_scan;
  s.register_words.clear();
  for (uint32_t i = 0; i < world.count; ++i) {
    if (world.threads[i].state.load() != kStopped) continue;
    for (uint64_t word : world.threads[i].registers) s.register_words.push_back(word);
  }
  if (g_exiting.has_registers)
    for (uint64_t word : g_exiting.registers) s.register_words.push_back(word);
}

}  // namespace

void absorb_ring_events_into_live_set() {
  for (ThreadRing* ring = ring_list_head(); ring != nullptr; ring = ring->next) {
    if (ring->state.load(std::memory_order_acquire) == static_cast<int>(RingState::kFree)) continue;
    const uint64_t head = ring->head.load(std::memory_order_acquire);
    const uint64_t mask = ring->capacity.load(std::memory_order_relaxed) - 1;
    // An event's frame records follow it: step over them.
    for (uint64_t t = ring->tail.load(std::memory_order_acquire); t < head;
         t += records_of(ring->records[t & mask]))
      live_set().apply(ring->records[t & mask]);
  }
}

namespace {

// Scans a root range but the parts the agent itself has mapped. The roots
// come from /proc/self/maps as it was read; the agent maps memory after that
// (the classifier's tables, growing vectors) and the kernel may place it
// where the agent's memory was when maps was read. Such memory holds block
// addresses and would make leaked blocks look reachable, so the registry of
// the agent's mappings is asked again, now, without allocating.
void scan_root_outside_own_memory(AddressRange root) {
  ScanState& s = *g_scan;
  uint64_t cursor = root.begin;
  while (cursor < root.end) {
    // The agent's mapping that overlaps [cursor, end) and starts first.
    OwnMapping first{root.end, root.end};
    for (uint32_t i = 0, n = own_mapping_count(); i < n; ++i) {
      const OwnMapping m = own_mapping_at(i);
      if (m.end > cursor && m.begin < root.end && m.begin < first.begin) first = m;
    }
    if (first.begin > cursor) s.classifier.scan_root_range(cursor, first.begin);
    cursor = std::max(cursor, first.end);
  }
}

// Reads every root and floods; restarted from scratch after a fault.
void classify_all() {
  ScanState& s = *g_scan;
  s.classifier.reset();
  s.classifier.scan_root_words(s.register_words.data(), s.register_words.size());
  for (size_t i = 0; i < s.roots.size(); ++i) {
    s.root_being_read = static_cast<int64_t>(i);
    scan_root_outside_own_memory(s.roots[i]);
    s.root_being_read = -1;
  }
  s.classifier.flood();
  s.classifier.classify_unreached();
}

}  // namespace

void prepare_leak_scan() {
  dl_iterate_phdr(find_agent_image, nullptr);
  stack_of_current_thread(g_prepared.writer_stack);
  Dl_info where;
  g_prepared.glibc_malloc = real.malloc != nullptr &&
                            dladdr(reinterpret_cast<void*>(real.malloc), &where) != 0 &&
                            where.dli_fname != nullptr && std::strstr(where.dli_fname, "libc.so");
  if (g_scan == nullptr) {
    void* memory = map_zeroed(sizeof(ScanState));
    if (memory != nullptr) g_scan = new (memory) ScanState();
  }
}

__attribute__((noinline)) void note_exiting_thread(uint64_t stack_pointer,
                                                   const ucontext_t* interrupted) {
  g_exiting.stack_pointer = stack_pointer;
  g_exiting.has_registers = interrupted != nullptr;
  g_exiting.interrupted_stack_pointer = 0;
  if (interrupted != nullptr) {
    for (int r = 0; r < kSavedRegisters; ++r)
      g_exiting.registers[r] = static_cast<uint64_t>(interrupted->uc_mcontext.gregs[r]);
    g_exiting.interrupted_stack_pointer =
        static_cast<uint64_t>(interrupted->uc_mcontext.gregs[REG_RSP]);
  }
  g_exiting.tid.store(current_tid(), std::memory_order_release);
}

void note_thread_stack_retired() {
  if (getpid() == current_tid()) return;  // the main thread's stack is never reused
  AddressRange stack;
  if (!stack_of_current_thread(stack)) return;
  // glibc places the thread descriptor at the top of the stack mapping and
  // static TLS just below it: the descriptor (a joinable thread's result)
  // stays a root, the dead frames and TLS do not.
  const uint64_t descriptor = reinterpret_cast<uint64_t>(pthread_self());
  if (descriptor > stack.begin && descriptor <= stack.end) stack.end = descriptor;
  const uint32_t n = std::min(g_dead_stacks.count.load(std::memory_order_acquire), kMaxDeadStacks);
  for (uint32_t i = 0; i < n; ++i)
    if (g_dead_stacks.ranges[i].begin == stack.begin) return;  // a cached stack, seen before
  const uint32_t slot = g_dead_stacks.count.fetch_add(1, std::memory_order_acq_rel);
  if (slot < kMaxDeadStacks) g_dead_stacks.ranges[slot] = stack;
}

void recover_if_scan_fault(int sig, const siginfo_t* info, const void*) {
  if ((sig != SIGSEGV && sig != SIGBUS) || g_scan == nullptr) return;
  if (g_scan->recovering_tid.load(std::memory_order_acquire) != current_tid()) return;
  g_scan->last_fault_address = info ? reinterpret_cast<uint64_t>(info->si_addr) : 0;
  siglongjmp(g_scan->recovery, 1);
}

void run_leak_scan(LeakScanOutcome& outcome) {
  const uint64_t started = monotonic_ms();
  if (g_scan == nullptr) {
    outcome.skipped_reason = "skipped: out of memory";
    return;
  }
  ScanState& s = *g_scan;
  WorldStopResult world;
  if (!stop_the_world(g_exiting.tid.load(std::memory_order_acquire), kStopTimeoutMs, world)) {
    set_phase(Phase::kFinished);
    outcome.skipped_reason = "skipped: could not stop the other threads";
    return;
  }
  // Nothing is recorded from here on; events published before the stop that
  // the writer has not drained yet are applied now.
  set_phase(Phase::kFinished);
  absorb_ring_events_into_live_set();
  outcome.threads_stopped = world.stopped;
  outcome.threads_unresponsive = world.unresponsive;

  const char* failure = nullptr;
  outcome.blocks.clear();
  if (!live_set().collect(outcome.blocks)) failure = "skipped: out of memory";
  std::sort(outcome.blocks.begin(), outcome.blocks.end(),
            [](const LiveBlock& a, const LiveBlock& b) { return a.address < b.address; });
  s.mappings.clear();
  if (!failure && (!read_proc_maps(s.maps_text) ||
                   !parse_proc_maps(s.maps_text.data(), s.maps_text.size(), s.mappings)))
    failure = "skipped: cannot read /proc/self/maps";
  if (!failure && (!s.classifier.prepare(outcome.blocks.data(), outcome.blocks.size()) ||
                   !build_exclusions(world) || !exclude_heap_memory(outcome.blocks)))
    failure = "skipped: out of memory";
  if (!failure) {
    normalize_ranges(s.excluded);
    s.roots.clear();
    for (const Mapping& m : s.mappings)
      if (is_root_mapping(m) && !subtract_ranges({m.begin, m.end}, s.excluded, s.roots))
        failure = "skipped: out of memory";
    // Only the pages something was ever written to (resident_pages.h).
    s.root_candidates.swap(s.roots);
    s.roots.clear();
    for (size_t i = 0; !failure && i < s.root_candidates.size(); ++i)
      if (!append_touched_runs(s.root_candidates[i], s.roots)) failure = "skipped: out of memory";
    for (const AddressRange& r : s.roots) outcome.root_bytes += r.end - r.begin;
    mark_unreadable_blocks(outcome.blocks);
    collect_register_words(world);
    if (g_prepared.glibc_malloc) s.classifier.set_interior_rule(glibc_interior, nullptr);
  }

  if (!failure) {
    // A read that faults (memory unmapped by a thread that did not stop)
    // lands back here: the block or root range is skipped and the scan starts
    // over.
    sigset_t faults, previous;
    sigemptyset(&faults);
    sigaddset(&faults, SIGSEGV);
    sigaddset(&faults, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &faults, &previous);
    s.faults = 0;
    s.root_being_read = -1;
    s.recovering_tid.store(current_tid(), std::memory_order_release);
    if (sigsetjmp(s.recovery, 0) != 0) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      pthread_sigmask(SIG_UNBLOCK, &faults, nullptr);
      ++s.faults;
      const int64_t block = s.classifier.block_being_read();
      if (block >= 0)
        s.classifier.mark_unreadable(static_cast<size_t>(block));
      else if (s.root_being_read >= 0)
        s.roots[static_cast<size_t>(s.root_being_read)].end =
            s.roots[static_cast<size_t>(s.root_being_read)].begin;
      else
        s.faults = kMaxFaults + 1;
    }
    if (s.faults <= kMaxFaults) classify_all();
    s.recovering_tid.store(0, std::memory_order_release);
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    outcome.faults = s.faults;
    if (s.faults > kMaxFaults) failure = "skipped: memory kept changing during the scan";
  }
  if (!failure && outcome.categories.resize_zeroed(outcome.blocks.size())) {
    for (size_t i = 0; i < outcome.blocks.size(); ++i)
      outcome.categories[i] = static_cast<uint8_t>(s.classifier.category(i));
  } else if (!failure) {
    failure = "skipped: out of memory";
  }
  resume_the_world(world);
  outcome.elapsed_ms = monotonic_ms() - started;
  outcome.done = failure == nullptr;
  outcome.skipped_reason = failure;
}

}  // namespace memtide::agent
