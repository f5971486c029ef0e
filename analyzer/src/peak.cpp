#include "memtide/analysis/peak.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "block_replay.h"
#include "journaled_groups.h"
#include "memtide_common/gpu_event.h"
#include "pool_backing.h"
#include "scope_table.h"
#include "sqlite_util.h"
#include "stack_frames.h"

namespace memtide::analysis {

namespace {

// Journal measures: the host, the total, then one per device.
constexpr size_t kHostMeasure = 0, kTotalMeasure = 1, kFirstDeviceMeasure = 2;

struct Moment {
  uint64_t bytes = 0, seq = 0, time_ns = 0;
  int64_t step = -1, thread_id = 0;
  uint32_t scope = 0;
};

class PeakAggregator : public BlockSink {
 public:
  explicit PeakAggregator(const ScopeTable& scopes)
      : scopes_(scopes), phases_(scopes.phases().size()) {}

  void opened(const Block& b) override {
    if (!counted(b)) return;
    backing_index_.opened(b);
    const GroupKey key = key_of(b);
    groups_.add(key, int64_t(b.size), 1);
    if (b.family == AllocFamily::kPool) {
      Pool& pool = pools_[b.pool];
      pool.sub_live += b.size;
      pool.sub_peak = std::max(pool.sub_peak, pool.sub_live);
      adopt_backing(b);
      return;  // inside the host's bytes already: no new maximum
    }
    if (b.family == AllocFamily::kGpu) {
      uint64_t& live = device_live_[b.device];
      live += b.size;
      gpu_live_ += b.size;
      Moment& m = device_peaks_[b.device];
      if (live > m.bytes) {
        m = moment(b, live);
        groups_.mark(kFirstDeviceMeasure + device_measure(b.device));
      }
    } else {
      host_live_ += b.size;
      if (host_live_ > host_.bytes) {
        host_ = moment(b, host_live_);
        groups_.mark(kHostMeasure);
      }
    }
    const uint64_t total = host_live_ + gpu_live_;
    if (total > total_.bytes) {
      total_ = moment(b, total);
      groups_.mark(kTotalMeasure);
    }
    StepPeak& step = step_entry(b.step);
    step.host_bytes = std::max(step.host_bytes, host_live_);
    if (total > step.total_bytes) {
      step.total_bytes = total;
      step.time_ns = b.time_ns;
    }
    const uint32_t scope = b.scope < scopes_.size() ? b.scope : 0;
    if (scope && scopes_[scope].phase_index >= 0) {
      Moment& phase = phases_[size_t(scopes_[scope].phase_index)];
      if (total > phase.bytes) phase = moment(b, total);
    }
  }

  void block(const Block& b, const BlockEnd&) override {
    if (!counted(b)) return;
    backing_index_.ended(b);
    GroupKey key = key_of(b);
    if (b.family == AllocFamily::kPool) {
      pools_[b.pool].sub_live -= b.size;
    } else if (b.family == AllocFamily::kGpu) {
      device_live_[b.device] -= b.size;
      gpu_live_ -= b.size;
    } else {
      host_live_ -= b.size;
      if (auto it = backing_.find(b.id); it != backing_.end()) {
        key = {GroupMemory::kPoolReserve, it->second, b.stack, b.scope};
        pools_[it->second].reserve_live -= b.size;
        backing_.erase(it);
      }
    }
    groups_.add(key, -int64_t(b.size), -1);
  }

  void unmatched_free(const EventRecord&, int64_t) override {}
  void step(int64_t step, const EventRecord&, int64_t, int64_t) override {
    StepPeak& entry = step_entry(step);
    entry.host_bytes = std::max(entry.host_bytes, host_live_);
    entry.total_bytes = std::max(entry.total_bytes, host_live_ + gpu_live_);
  }

  PeakReport result(const TraceFile& trace, const PeakOptions& options) {
    groups_.finish();
    PeakReport out;
    out.trace = trace.path();
    StackFrames frames(trace, {options.search_paths, options.sysroot});
    const std::unordered_map<int64_t, std::string> pool_names = read_pool_names(trace);
    auto label = [&](const GroupKey& k) -> std::string {
      switch (k.memory) {
        case GroupMemory::kHeap:
          return "heap";
        case GroupMemory::kPoolReserve:
          return "pool reserve " + pool_name(pool_names, k.owner);
        case GroupMemory::kPoolSub:
          return "pool " + pool_name(pool_names, k.owner);
        case GroupMemory::kGpu:
          return device_name(k.owner);
      }
      return "";
    };
    auto snapshot = [&](const std::string& measure, const Moment& m, size_t index, auto&& wanted) {
      PeakSnapshot s;
      s.measure = measure;
      s.moment = moment_of(m);
      std::map<std::pair<std::string, uint32_t>, GroupTotals> by_scope, by_stack, pools;
      for (const auto& [key, totals] : groups_.snapshot(index)) {
        if (key.memory == GroupMemory::kPoolSub && index == kHostMeasure) {
          add(pools[{label(key), key.scope}], totals);
          continue;
        }
        if (!wanted(key)) continue;
        add(by_scope[{label(key), key.scope}], totals);
        add(by_stack[{label(key), key.stack}], totals);
      }
      s.by_scope = groups(by_scope, false, frames, options.max_groups);
      s.by_stack = groups(by_stack, true, frames, options.max_groups);
      s.inside_pools = groups(pools, false, frames, options.max_groups);
      return s;
    };
    out.host = snapshot("host", host_, kHostMeasure, [](const GroupKey& k) {
      return k.memory == GroupMemory::kHeap || k.memory == GroupMemory::kPoolReserve;
    });
    out.total = snapshot("total", total_, kTotalMeasure,
                         [](const GroupKey& k) { return k.memory != GroupMemory::kPoolSub; });
    for (const auto& [device, m] : device_peaks_) {
      const int64_t d = device;
      out.devices.push_back(snapshot(
          device_name(d), m, kFirstDeviceMeasure + device_measure(d),
          [d](const GroupKey& k) { return k.memory == GroupMemory::kGpu && k.owner == d; }));
    }
    for (const auto& [step, entry] : steps_) out.steps.push_back(entry);
    for (size_t i = 0; i < phases_.size(); ++i)
      if (phases_[i].bytes) out.phases.push_back({scopes_.phases()[i], moment_of(phases_[i])});
    std::sort(out.phases.begin(), out.phases.end(), [](const PhasePeak& a, const PhasePeak& b) {
      return a.moment.bytes > b.moment.bytes;
    });
    for (const auto& [id, pool] : pools_)
      out.pools.push_back({id, pool_name(pool_names, id), pool.sub_peak, pool.reserve_peak});
    std::sort(out.pools.begin(), out.pools.end(),
              [](const PoolPeak& a, const PoolPeak& b) { return a.id < b.id; });
    out.missing_modules = frames.missing_modules();
    frames.save();
    return out;
  }

 private:
  struct Pool {
    uint64_t sub_live = 0, sub_peak = 0, reserve_live = 0, reserve_peak = 0;
  };

  // Memory as the peak counts it: not address ranges, not pinned host memory.
  static bool counted(const Block& b) {
    if (b.family != AllocFamily::kGpu) return true;
    const GpuMemoryClass c = gpu_memory_class(b.kind);
    return c != GpuMemoryClass::kPinned && c != GpuMemoryClass::kMapped &&
           c != GpuMemoryClass::kReserved;
  }

  static GroupKey key_of(const Block& b) {
    if (b.family == AllocFamily::kPool) return {GroupMemory::kPoolSub, b.pool, b.stack, b.scope};
    if (b.family == AllocFamily::kGpu) return {GroupMemory::kGpu, b.device, b.stack, b.scope};
    return {GroupMemory::kHeap, 0, b.stack, b.scope};
  }

  // A pool sub-allocation inside a heap block not yet known as backing:
  // that block's bytes move from the heap's groups to the pool's reserve.
  void adopt_backing(const Block& sub) {
    const Block* container = backing_index_.container_of(sub);
    if (!container || container->family == AllocFamily::kGpu) return;
    if (!backing_.try_emplace(container->id, sub.pool).second) return;
    const int64_t size = int64_t(container->size);
    groups_.add({GroupMemory::kHeap, 0, container->stack, container->scope}, -size, -1);
    groups_.add({GroupMemory::kPoolReserve, sub.pool, container->stack, container->scope}, size, 1);
    Pool& pool = pools_[sub.pool];
    pool.reserve_live += container->size;
    pool.reserve_peak = std::max(pool.reserve_peak, pool.reserve_live);
  }

  size_t device_measure(int64_t device) {
    auto [it, inserted] = device_measures_.try_emplace(device, device_measures_.size());
    return it->second;
  }

  StepPeak& step_entry(int64_t step) {
    auto [it, inserted] = steps_.try_emplace(step);
    if (inserted) it->second.step = step;
    return it->second;
  }

  static Moment moment(const Block& b, uint64_t bytes) {
    return {bytes, b.seq, b.time_ns, b.step, b.thread_id, b.scope};
  }

  PeakMoment moment_of(const Moment& m) const {
    return {m.bytes, m.seq, m.time_ns, m.step, m.thread_id, scopes_[m.scope].path};
  }

  static void add(GroupTotals& to, const GroupTotals& from) {
    to.bytes += from.bytes;
    to.blocks += from.blocks;
  }

  std::vector<LiveGroup> groups(const std::map<std::pair<std::string, uint32_t>, GroupTotals>& in,
                                bool stacks, StackFrames& frames, size_t max_groups) const {
    std::vector<LiveGroup> out;
    for (const auto& [key, totals] : in) {
      if (totals.bytes <= 0) continue;
      LiveGroup g;
      g.memory = key.first;
      if (stacks)
        g.stack = key.second;
      else
        g.scope = scopes_[key.second].path;
      g.bytes = uint64_t(totals.bytes);
      g.blocks = uint64_t(std::max<int64_t>(0, totals.blocks));
      out.push_back(std::move(g));
    }
    std::sort(out.begin(), out.end(), [](const LiveGroup& a, const LiveGroup& b) {
      return a.bytes != b.bytes ? a.bytes > b.bytes : a.blocks > b.blocks;
    });
    if (out.size() > max_groups) out.resize(max_groups);
    if (stacks)
      for (LiveGroup& g : out) g.frames = frames.stack(g.stack);
    return out;
  }

  static std::string device_name(int64_t device) {
    return device == 255 ? "cuda:?" : "cuda:" + std::to_string(device);
  }
  static std::string pool_name(const std::unordered_map<int64_t, std::string>& names, int64_t id) {
    auto it = names.find(id);
    return it != names.end() && !it->second.empty() ? it->second : "#" + std::to_string(id);
  }
  static std::unordered_map<int64_t, std::string> read_pool_names(const TraceFile& trace) {
    std::unordered_map<int64_t, std::string> names;
    Statement s(trace.db(),
                "SELECT p.id, coalesce(str.value, '') FROM pools p "
                "LEFT JOIN strings str ON str.id = p.name_id");
    while (s.step()) names[s.column_int64(0)] = s.column_text(1);
    return names;
  }

  const ScopeTable& scopes_;
  JournaledGroups groups_;
  PoolBackingIndex backing_index_;
  std::unordered_map<int64_t, int64_t> backing_;  // live backing block id -> pool
  std::map<int64_t, Pool> pools_;
  uint64_t host_live_ = 0, gpu_live_ = 0;
  std::map<int64_t, uint64_t> device_live_;
  std::map<int64_t, Moment> device_peaks_;
  std::map<int64_t, size_t> device_measures_;
  Moment host_, total_;
  std::map<int64_t, StepPeak> steps_;
  std::vector<Moment> phases_;
};

}  // namespace

PeakReport find_peak(const TraceFile& trace, const PeakOptions& options) {
  const ScopeTable scopes(trace);
  PeakAggregator aggregator(scopes);
  BlockReplay replay(aggregator);
  trace.for_each_event([&](const EventRecord& e, int64_t thread) { replay.event(e, thread); });
  const IndexStats stats = replay.finish();
  PeakReport out = aggregator.result(trace, options);
  out.events = stats.events;
  return out;
}

}  // namespace memtide::analysis
