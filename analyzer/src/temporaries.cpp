#include "memtide/analysis/temporaries.h"

#include <algorithm>
#include <unordered_map>

#include "memtide_common/gpu_event.h"
#include "scope_table.h"
#include "stack_frames.h"

namespace memtide::analysis {

namespace {

// Which memory an event's block is in: heap, pool, or GPU device N.
constexpr uint32_t kHeapMemory = 0, kPoolMemory = 1, kFirstDeviceMemory = 2;

struct Totals {
  uint64_t allocations = 0, bytes = 0, temporaries = 0, temporary_bytes = 0;
};

// The thread's latest allocation, while nothing else happened on the thread.
struct LastAllocation {
  bool pending = false;
  uint32_t memory = 0;
  uint64_t address = 0, size = 0;
  Totals* stack = nullptr;
  Totals* scope = nullptr;
};

bool is_heap_allocation(EventKind k) {
  const auto v = uint8_t(k);
  return v >= 1 && v <= 13;
}

bool is_heap_release(EventKind k) {
  return k == EventKind::kFree || k == EventKind::kDelete || k == EventKind::kDeleteArray ||
         k == EventKind::kReallocFree;
}

bool is_gpu_memory(EventKind k) {
  return is_gpu_allocation(k) && k != EventKind::kCudaVmmMap && k != EventKind::kCudaReserve;
}

class SiteCounter {
 public:
  void event(const EventRecord& e, int64_t thread) {
    const EventKind k = e.kind;
    if (is_heap_allocation(k) || k == EventKind::kReallocInPlace) {
      allocated(e, thread, kHeapMemory);
    } else if (k == EventKind::kPoolAlloc) {
      allocated(e, thread, kPoolMemory);
    } else if (is_gpu_memory(k)) {
      allocated(e, thread, kFirstDeviceMemory + unpack_gpu_aux(e.aux).device);
    } else if (is_heap_release(k)) {
      released(e, thread, kHeapMemory);
    } else if (k == EventKind::kPoolFree) {
      released(e, thread, kPoolMemory);
    } else if (is_gpu_deallocation(k)) {
      released(e, thread, kFirstDeviceMemory + unpack_gpu_aux(e.aux).device);
    }
  }

  std::unordered_map<uint64_t, Totals> stacks, scopes;  // key: id << 16 | memory
  Totals all;

 private:
  LastAllocation& last_of(int64_t thread) {
    if (thread != cached_thread_ || !cached_) {
      cached_ = &last_[thread];
      cached_thread_ = thread;
    }
    return *cached_;
  }

  void allocated(const EventRecord& e, int64_t thread, uint32_t memory) {
    Totals& stack = stacks[uint64_t(e.stack) << 16 | memory];
    Totals& scope = scopes[uint64_t(e.scope) << 16 | memory];
    for (Totals* t : {&stack, &scope, &all}) {
      ++t->allocations;
      t->bytes += e.size;
    }
    last_of(thread) = {true, memory, e.address, e.size, &stack, &scope};
  }

  void released(const EventRecord& e, int64_t thread, uint32_t memory) {
    LastAllocation& last = last_of(thread);
    if (last.pending && last.address == e.address &&
        (last.memory == memory ||
         (memory >= kFirstDeviceMemory && last.memory >= kFirstDeviceMemory))) {
      for (Totals* t : {last.stack, last.scope, &all}) {
        ++t->temporaries;
        t->temporary_bytes += last.size;
      }
    }
    last.pending = false;
  }

  std::unordered_map<int64_t, LastAllocation> last_;
  LastAllocation* cached_ = nullptr;
  int64_t cached_thread_ = 0;
};

std::string memory_name(uint32_t memory) {
  if (memory == kHeapMemory) return "heap";
  if (memory == kPoolMemory) return "pool";
  const uint32_t device = memory - kFirstDeviceMemory;
  return device == 255 ? "cuda:?" : "cuda:" + std::to_string(device);
}

uint64_t rank_value(const AllocationSite& s, SiteOrder order) {
  switch (order) {
    case SiteOrder::kBytes:
      return s.bytes;
    case SiteOrder::kCount:
      return s.allocations;
    case SiteOrder::kTemporaries:
      return s.temporaries;
  }
  return 0;
}

std::vector<AllocationSite> ranked(const std::unordered_map<uint64_t, Totals>& in,
                                   const TopOptions& options, bool stacks,
                                   const ScopeTable& scopes) {
  std::vector<AllocationSite> out;
  out.reserve(in.size());
  for (const auto& [key, t] : in) {
    AllocationSite s;
    s.memory = memory_name(uint32_t(key & 0xffff));
    const uint32_t id = uint32_t(key >> 16);
    if (stacks)
      s.stack = id;
    else
      s.scope = scopes[id].path;
    s.allocations = t.allocations;
    s.bytes = t.bytes;
    s.temporaries = t.temporaries;
    s.temporary_bytes = t.temporary_bytes;
    if (options.order == SiteOrder::kTemporaries && s.temporaries == 0) continue;
    out.push_back(std::move(s));
  }
  auto secondary = options.order == SiteOrder::kBytes ? SiteOrder::kCount : SiteOrder::kBytes;
  std::sort(out.begin(), out.end(), [&](const AllocationSite& a, const AllocationSite& b) {
    if (rank_value(a, options.order) != rank_value(b, options.order))
      return rank_value(a, options.order) > rank_value(b, options.order);
    if (rank_value(a, secondary) != rank_value(b, secondary))
      return rank_value(a, secondary) > rank_value(b, secondary);
    return std::tie(a.stack, a.scope, a.memory) < std::tie(b.stack, b.scope, b.memory);
  });
  if (out.size() > options.max_sites) out.resize(options.max_sites);
  return out;
}

}  // namespace

TopAllocations top_allocations(const TraceFile& trace, const TopOptions& options) {
  SiteCounter counter;
  uint64_t events = 0;
  trace.for_each_event([&](const EventRecord& e, int64_t thread) {
    ++events;
    counter.event(e, thread);
  });
  const ScopeTable scopes(trace);
  TopAllocations out;
  out.trace = trace.path();
  out.order = options.order;
  out.events = events;
  out.allocations = counter.all.allocations;
  out.bytes = counter.all.bytes;
  out.temporaries = counter.all.temporaries;
  out.temporary_bytes = counter.all.temporary_bytes;
  out.stacks = ranked(counter.stacks, options, true, scopes);
  out.scopes = ranked(counter.scopes, options, false, scopes);
  StackFrames frames(trace, {options.search_paths, options.sysroot});
  for (AllocationSite& s : out.stacks) s.frames = frames.stack(s.stack);
  out.missing_modules = frames.missing_modules();
  frames.save();
  return out;
}

}  // namespace memtide::analysis
