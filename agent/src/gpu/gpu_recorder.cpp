#include "gpu/gpu_recorder.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "agent_state.h"
#include "name_tables.h"
#include "recorder_hot.h"
#include "spin_lock.h"

namespace memtide::agent::gpu {

namespace {

constexpr int kClasses = static_cast<int>(GpuMemoryClass::kCount);

struct Block {
  uint64_t size;
  uint32_t device;
  EventKind kind;
};

// Created on first use and never destroyed: GPU calls can come from static
// destructors and from threads that outlive main.
struct State {
  SpinLock lock;
  std::map<uint64_t, Block> live[kClasses];  // by address (handle for physical memory)
  std::set<uint64_t> captured;               // addresses handed out inside stream capture
  std::map<uint32_t, DeviceLive> by_device;
  std::map<std::string, uint64_t> counters;
  std::string detail = "no CUDA driver seen";
};

State& state() {
  static State* s = new State;
  return *s;
}

std::atomic<int> g_mode{static_cast<int>(Mode::kOff)};

DeviceLive& device_row(State& s, uint32_t device) {
  auto [it, inserted] = s.by_device.try_emplace(device);
  if (inserted) {
    it->second.device = device;
    std::memset(it->second.bytes, 0, sizeof(it->second.bytes));
  }
  return it->second;
}

void add_block(State& s, const Call& call) {
  const GpuMemoryClass c = gpu_memory_class(call.kind);
  s.live[static_cast<int>(c)][call.address] = Block{call.size, call.device, call.kind};
  device_row(s, call.device).bytes[static_cast<int>(c)] += call.size;
}

// Ends the blocks a free names; false when it names none the agent knows.
bool end_blocks(State& s, const Call& call) {
  if (call.kind == EventKind::kCudaVmmUnmap) {
    auto& mapped = s.live[static_cast<int>(GpuMemoryClass::kMapped)];
    bool any = false;
    for (auto it = mapped.lower_bound(call.address);
         it != mapped.end() && it->first < call.address + call.size;) {
      device_row(s, it->second.device).bytes[static_cast<int>(GpuMemoryClass::kMapped)] -=
          it->second.size;
      it = mapped.erase(it);
      any = true;
    }
    return any;
  }
  EventKind candidates[3];
  const int n = gpu_kinds_freed_by(call.kind, candidates);
  for (int i = 0; i < n; ++i) {
    const int c = static_cast<int>(gpu_memory_class(candidates[i]));
    auto it = s.live[c].find(call.address);
    if (it == s.live[c].end()) continue;
    device_row(s, it->second.device).bytes[c] -= it->second.size;
    s.live[c].erase(it);
    return true;
  }
  return false;
}

// The last stream or pool a thread named: training loops allocate on the same
// stream again and again, and interning its name takes the tables' lock.
struct LastObject {
  const char* type;
  uint64_t handle;
  uint32_t id;
};
__attribute__((tls_model("initial-exec"))) thread_local LastObject t_last_object = {nullptr, 0, 0};

uint32_t object_id(const Call& call) {
  if (call.object_type == nullptr) return 0;
  LastObject& last = t_last_object;
  if (last.type == call.object_type && last.handle == call.object) return last.id;
  char text[64];
  snprintf(text, sizeof text, "%s 0x%llx", call.object_type,
           static_cast<unsigned long long>(call.object));
  last = {call.object_type, call.object, name_tables().intern_string(text)};
  return last.id;
}

// Bookkeeping under the lock; returns the kind to record, or false to drop.
bool account(Call& call) {
  State& s = state();
  SpinGuard lock(s.lock);
  ++s.counters["gpu_events"];
  if (call.kind == EventKind::kCudaFailed) {
    ++s.counters["gpu_failed_calls"];
    return true;
  }
  if (call.kind == EventKind::kCudaCapturedAlloc) {
    s.captured.insert(call.address);
    return true;
  }
  if (call.kind == EventKind::kCudaPoolReserve) return true;
  if (is_gpu_allocation(call.kind)) {
    add_block(s, call);
    return true;
  }
  if (!is_gpu_deallocation(call.kind)) return true;
  if ((call.kind == EventKind::kCudaFreeAsync || call.kind == EventKind::kCudaFree) &&
      s.captured.erase(call.address) != 0) {
    call.kind = EventKind::kCudaCapturedFree;
    return true;
  }
  if (!end_blocks(s, call)) ++s.counters["gpu_unknown_frees"];
  return true;
}

void emit(Call call, uint64_t seq, bool has_time, uint64_t time_ns) {
  if (!may_record()) return;
  Guard guard;
  // cuMemFree(0) and friends are no-ops (the runtime issues them on purpose).
  if (is_gpu_deallocation(call.kind) && call.address == 0 && call.kind != EventKind::kCudaGraphFree)
    return;
  if (!account(call)) return;
  GpuAux aux;
  aux.device = call.device;
  aux.api = call.api;
  aux.result = call.result;
  aux.object = object_id(call);
  ThreadState& ts = thread_state();
  ThreadRing* ring = hot::ring_for_current_thread(ts);
  if (ring == nullptr) return;
  EventRecord event;
  event.seq = seq != 0 ? seq : next_seq();
  event.time_ns = has_time ? time_ns : event_ticks();
  event.address = call.address;
  event.size = call.size;
  event.aux = pack_gpu_aux(aux);
  event.scope = ts.scope;
  event.kind = call.kind;
  __builtin_memset(event.reserved, 0, sizeof(event.reserved));
  if (has_time) event.reserved[0] = kEventTimeIsNs;
  const bool shared =
      ring->state.load(std::memory_order_relaxed) == static_cast<int>(RingState::kShared);
  const bool with_stack = !has_time && (!is_gpu_deallocation(call.kind) || options().free_stacks);
  event.stack = 0;  // interned by the writer
  uint64_t scratch[hot::kScratchFrames];
  hot::Capture capture;
  if (with_stack) hot::capture_stack(shared ? nullptr : ring, scratch, capture);
  hot::append(ring, event, capture);
}

}  // namespace

Mode active_mode() {
  return static_cast<Mode>(g_mode.load(std::memory_order_acquire));
}

void set_active_mode(Mode mode, std::string detail) {
  {
    Guard guard;
    State& s = state();
    SpinGuard lock(s.lock);
    s.detail = std::move(detail);
  }
  g_mode.store(static_cast<int>(mode), std::memory_order_release);
}

Mode requested_mode() {
  const std::string& value = options().gpu;
  if (value == "off") return Mode::kOff;
  if (value == "cupti") return Mode::kCupti;
  return Mode::kHooks;
}

uint64_t seq_now() {
  return next_seq();
}

void record(const Call& call, uint64_t seq) {
  emit(call, seq, false, 0);
}

void record_at(const Call& call, uint64_t time_ns) {
  emit(call, 0, true, time_ns);
}

std::vector<DeviceLive> live_by_device() {
  Guard guard;
  State& s = state();
  SpinGuard lock(s.lock);
  std::vector<DeviceLive> rows;
  for (const auto& [device, row] : s.by_device) rows.push_back(row);
  return rows;
}

void count(const char* name, uint64_t delta) {
  Guard guard;
  State& s = state();
  SpinGuard lock(s.lock);
  s.counters[name] += delta;
}

std::vector<std::pair<std::string, uint64_t>> counters() {
  Guard guard;
  State& s = state();
  SpinGuard lock(s.lock);
  return {s.counters.begin(), s.counters.end()};
}

std::vector<std::pair<std::string, std::string>> status_rows() {
  Guard guard;
  State& s = state();
  SpinGuard lock(s.lock);
  static const char* const kNames[] = {"off", "hooks", "cupti"};
  return {{"gpu_requested", options().gpu},
          {"gpu_mode", kNames[g_mode.load()]},
          {"gpu_detail", s.detail}};
}

void after_fork_in_child() {
  state().lock.reset();
}

}  // namespace memtide::agent::gpu
