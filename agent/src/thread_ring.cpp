#include "thread_ring.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <new>

#include "agent_state.h"
#include "os_memory.h"

namespace memtide::agent {
namespace {

std::atomic<ThreadRing*> g_rings{nullptr};
std::atomic<uint32_t> g_next_thread_id{1};
ThreadRing* g_shared_ring = nullptr;
SpinLock g_shared_ring_create_lock;
// Bytes that rings may add by growing, all threads together: with many
// threads outpacing the writer, every ring growing to its maximum would cost
// the maximum per thread (32 threads, 128 MiB). Growth stops once the rings
// have grown by this much; rings are never unmapped, so it is never given back.
std::atomic<uint64_t> g_ring_growth_bytes{0};

}  // namespace

uint64_t ring_growth_bytes() {
  return g_ring_growth_bytes.load(std::memory_order_relaxed);
}

namespace {

// Takes the bytes a ring of `capacity` slots needs to double from the
// process's growth budget; false when they are not left.
bool reserve_growth(uint32_t capacity) {
  const uint64_t bytes = uint64_t(capacity) * sizeof(EventRecord);
  uint64_t used = g_ring_growth_bytes.load(std::memory_order_relaxed);
  do {
    if (used + bytes > kRingGrowthBudgetBytes) return false;
  } while (
      !g_ring_growth_bytes.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

ThreadRing* map_ring(RingSize size) {
  size.max = std::max(size.max, size.initial);
  size_t bytes = sizeof(ThreadRing) + sizeof(EventRecord) * size.max;
  void* memory = map_zeroed(bytes);
  if (memory == nullptr) return nullptr;
  auto* ring = new (memory) ThreadRing();
  ring->capacity.store(size.initial, std::memory_order_relaxed);
  ring->max_capacity = size.max;
  ring->records = reinterpret_cast<EventRecord*>(static_cast<char*>(memory) + sizeof(ThreadRing));
  ring->mapped_bytes = bytes;
  return ring;
}

void publish(ThreadRing* ring) {
  ThreadRing* head = g_rings.load(std::memory_order_relaxed);
  do {
    ring->next = head;
  } while (!g_rings.compare_exchange_weak(head, ring, std::memory_order_release));
}

}  // namespace

ThreadRing* ring_list_head() {
  return g_rings.load(std::memory_order_acquire);
}

uint32_t next_thread_id() {
  return g_next_thread_id.fetch_add(1, std::memory_order_relaxed);
}

ThreadRing* acquire_ring(RingSize size, pid_t tid, uint64_t now_ns) {
  ThreadRing* ring = nullptr;
  for (ThreadRing* r = ring_list_head(); r != nullptr; r = r->next) {
    int expected = static_cast<int>(RingState::kFree);
    // A reused ring keeps the capacity it grew to: its pages are resident.
    if (r->max_capacity == std::max(size.max, size.initial) &&
        r->state.compare_exchange_strong(expected, static_cast<int>(RingState::kActive),
                                         std::memory_order_acquire)) {
      ring = r;
      break;
    }
  }
  bool fresh = ring == nullptr;
  if (fresh) {
    ring = map_ring(size);
    if (ring == nullptr) return nullptr;
    ring->state.store(static_cast<int>(RingState::kActive), std::memory_order_relaxed);
  }
  ring->thread_id = next_thread_id();
  ring->tid = tid;
  ring->start_time_ns = now_ns;
  ring->end_time_ns = 0;
  ring->name[0] = '\0';
  ring->row_written = false;
  if (fresh) publish(ring);
  return ring;
}

ThreadRing* shared_ring(RingSize size) {
  if (ThreadRing* ring = __atomic_load_n(&g_shared_ring, __ATOMIC_ACQUIRE)) return ring;
  SpinGuard guard(g_shared_ring_create_lock);
  if (g_shared_ring == nullptr) {
    ThreadRing* ring = map_ring(size);
    if (ring == nullptr) return nullptr;
    ring->state.store(static_cast<int>(RingState::kShared), std::memory_order_relaxed);
    ring->thread_id = next_thread_id();
    __builtin_memcpy(ring->name, "(exited threads)", 15);
    publish(ring);
    __atomic_store_n(&g_shared_ring, ring, __ATOMIC_RELEASE);
  }
  return g_shared_ring;
}

void wake_writer() {
  WriterSignal& signal = writer_signal();
  signal.pending.store(1, std::memory_order_release);
  if (signal.sleeping.load(std::memory_order_acquire))
    syscall(SYS_futex, &signal.pending, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

uint32_t wait_for_ring_space(ThreadRing* ring, uint64_t head, uint32_t needed) {
  agent_counters().backpressure_waits.fetch_add(1, std::memory_order_relaxed);
  const uint32_t capacity = ring->capacity.load(std::memory_order_relaxed);
  // Growing needs an empty ring: slot i of a ring of capacity c is i mod c,
  // so the events waiting would move. The writer drains a full ring whole in
  // one pass, so waiting for empty costs little more than waiting for room.
  const bool grow = capacity < ring->max_capacity && reserve_growth(capacity);
  // Wait while this many records wait: until the ring is empty to grow it,
  // until `needed` slots are free otherwise.
  const uint64_t waiting_limit = grow ? 1 : capacity - needed + 1;
  // Back-pressure: the writer drains rings far faster than threads fill
  // them, so a short sleep is enough and costs nothing in the common case.
  // The writer hands a page's slots back as soon as it has copied them, so
  // a wait is often over within microseconds: spin briefly before sleeping
  // (a 50 µs sleep lasts 100 µs or more with the kernel's timer slack).
  wake_writer();
  for (int spin = 0; spin < 2000; ++spin) {
    if (head - ring->tail.load(std::memory_order_acquire) < waiting_limit) break;
    cpu_relax();
  }
  while (head - ring->tail.load(std::memory_order_acquire) >= waiting_limit) {
    wake_writer();
    if (!writer_running()) start_writer_early();
    struct timespec pause = {0, 50 * 1000};
    nanosleep(&pause, nullptr);
  }
  ring->tail_seen = ring->tail.load(std::memory_order_acquire);
  if (!grow) return capacity;
  // Published by push_event's release store of `head`.
  ring->capacity.store(capacity * 2, std::memory_order_relaxed);
  return capacity * 2;
}

void reset_rings_in_child(ThreadRing* keep) {
  for (ThreadRing* r = ring_list_head(); r != nullptr; r = r->next) {
    r->shared_lock.reset();
    // The parent's writer records what these rings held before the fork.
    r->tail.store(r->head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    r->row_written = false;
    // The events the child dropped above may have sent stacks that the
    // writer's record of the ring never saw: the next stack is sent whole.
    r->sent_from_unwind = false;
    r->sent_whole = false;
    if (r == keep || r->state.load() == static_cast<int>(RingState::kShared)) continue;
    r->state.store(static_cast<int>(RingState::kFree), std::memory_order_relaxed);
  }
  g_shared_ring_create_lock.reset();
}

uint64_t lowest_waiting_seq_except(const ThreadRing* ring) {
  constexpr int kMaxRingsScanned = 64;
  uint64_t lowest = UINT64_MAX;
  int scanned = 0;
  for (ThreadRing* other = ring_list_head(); other != nullptr; other = other->next) {
    if (other == ring ||
        other->state.load(std::memory_order_acquire) == static_cast<int>(RingState::kFree))
      continue;
    if (++scanned > kMaxRingsScanned) return 0;
    const uint64_t tail = other->tail.load(std::memory_order_relaxed);
    if (tail < other->head.load(std::memory_order_acquire))
      lowest = std::min(lowest, other->record_at(tail).seq);
  }
  return lowest;
}

}  // namespace memtide::agent
