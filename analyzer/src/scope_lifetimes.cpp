#include "memtide/analysis/scope_lifetimes.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "block_replay.h"
#include "lifetime_histogram.h"
#include "pool_backing.h"
#include "scope_table.h"
#include "sqlite_util.h"

namespace memtide::analysis {

namespace {

constexpr std::array<std::string_view, 8> kPhaseWords = {
    "forward", "backward", "recompute", "loss", "optimizer", "data", "eval", "init"};

// Freed-in key of a block still live at the end of the trace.
constexpr uint32_t kNotFreed = UINT32_MAX;

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t begin = 0;
  while (begin <= path.size()) {
    const size_t slash = path.find('/', begin);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    parts.push_back(path.substr(begin, end - begin));
    begin = end + 1;
  }
  return parts;
}

// Index of the phase component of a path's parts.
size_t phase_component(const std::vector<std::string_view>& parts) {
  for (size_t i = parts.size(); i-- > 0;)
    if (std::find(kPhaseWords.begin(), kPhaseWords.end(), parts[i]) != kPhaseWords.end()) return i;
  return parts.empty() ? 0 : parts.size() - 1;
}

// One row's numbers as the events go by.
struct Accumulator {
  uint64_t allocations = 0, bytes = 0, pool_bytes = 0;
  uint64_t live = 0, peak = 0, high_water = 0;
  uint64_t outliving_bytes = 0, outliving_blocks = 0;
  std::unordered_map<uint32_t, std::pair<uint64_t, uint64_t>> freed_in;  // bytes, blocks
  uint64_t live_at_step_end = 0;
  std::unique_ptr<LifetimeHistogram> lifetimes;

  void open(uint64_t size, uint64_t process_live) {
    live += size;
    peak = std::max(peak, live);
    high_water = std::max(high_water, process_live);
  }
  void count(const Block& b) {
    ++allocations;
    bytes += b.size;
    if (b.family == AllocFamily::kPool) pool_bytes += b.size;
  }
  void outlived(uint64_t size, uint32_t freed_scope) {
    outliving_bytes += size;
    ++outliving_blocks;
    auto& f = freed_in[freed_scope];
    f.first += size;
    ++f.second;
  }
  LifetimeHistogram& histogram() {
    if (!lifetimes) lifetimes = std::make_unique<LifetimeHistogram>();
    return *lifetimes;
  }
};

struct PoolState {
  PoolUsage usage;
  uint64_t sub_live = 0, reserve_live = 0;
  int64_t device = kHostMemory;  // where its reserve is, once a backing block is seen
};

class ScopeAggregator : public BlockSink {
 public:
  ScopeAggregator(const ScopeTable& scopes, const ScopeLifetimesOptions& options,
                  std::unordered_map<int64_t, int64_t> backing)
      : scopes_(scopes),
        options_(options),
        backing_(std::move(backing)),
        own_(scopes.size()),
        subtree_(scopes.size()),
        phases_(scopes.phases().size()) {}

  void event(const EventRecord& e, int64_t thread) {
    if (e.kind == EventKind::kScopeEnter) {
      stacks_[thread].push_back({uint32_t(e.aux), e.seq});
    } else if (e.kind == EventKind::kScopeExit) {
      auto& stack = stacks_[thread];
      for (size_t i = stack.size(); i-- > 0;) {
        if (stack[i].scope != uint32_t(e.aux)) continue;
        stack.resize(i);
        break;
      }
    }
  }

  void opened(const Block& b) override {
    if (!is_memory(b)) return;
    if (auto it = backing_.find(b.id); it != backing_.end()) {
      PoolState& pool = pools_[it->second];
      pool.device = b.device;
      if (options_.device && b.device != *options_.device) return;
      ++pool.usage.backing_blocks;
      pool.reserve_live += b.size;
      pool.usage.reserve_peak_bytes = std::max(pool.usage.reserve_peak_bytes, pool.reserve_live);
      return;
    }
    if (!selected(b)) return;
    if (b.family == AllocFamily::kPool) {
      PoolState& pool = pools_[b.pool];
      ++pool.usage.sub_allocations;
      pool.usage.sub_bytes += b.size;
      pool.sub_live += b.size;
      pool.usage.sub_peak_live_bytes = std::max(pool.usage.sub_peak_live_bytes, pool.sub_live);
    }
    process_live_ += b.size;
    const uint32_t s = scope_of(b);
    own_[s].count(b);
    own_[s].open(b.size, process_live_);
    for (uint32_t a = s; a != 0; a = scopes_[a].parent) subtree_[a].open(b.size, process_live_);
    if (Accumulator* phase = phase_of(s)) {
      phase->count(b);
      phase->open(b.size, process_live_);
    }
  }

  void block(const Block& b, const BlockEnd& end) override {
    if (!is_memory(b)) return;
    if (auto it = backing_.find(b.id); it != backing_.end()) {
      if (!options_.device || b.device == *options_.device)
        pools_[it->second].reserve_live -= b.size;
      return;
    }
    if (!selected(b)) return;
    if (b.family == AllocFamily::kPool) pools_[b.pool].sub_live -= b.size;
    process_live_ -= b.size;
    const uint32_t s = scope_of(b);
    Accumulator& own = own_[s];
    own.live -= b.size;
    for (uint32_t a = s; a != 0; a = scopes_[a].parent) subtree_[a].live -= b.size;
    Accumulator* phase = phase_of(s);
    if (phase) phase->live -= b.size;
    if (end.freed) own.histogram().add(end.freed->time_ns - b.time_ns);
    if (!end.freed || end.step != b.step) own.live_at_step_end += b.size;
    if (s == 0) return;
    // The instances still open are the allocating thread's scopes entered
    // before the block: a prefix of its stack (see scope_lifetimes.h).
    const int depth = scopes_[s].depth;
    int kept = 0;
    for (const Entered& entered : stacks_[b.thread_id]) {
      if (entered.seq >= b.seq || kept == depth) break;
      ++kept;
    }
    if (kept >= depth) return;
    const uint32_t freed_scope = end.freed ? end.freed->scope : kNotFreed;
    own.outlived(b.size, freed_scope);
    if (phase) phase->outlived(b.size, freed_scope);
    for (uint32_t a = s; a != 0 && scopes_[a].depth > kept; a = scopes_[a].parent)
      subtree_[a].outlived(b.size, freed_scope);
  }

  void unmatched_free(const EventRecord&, int64_t) override {}
  void step(int64_t, const EventRecord&, int64_t, int64_t) override {}

  ScopeLifetimes result(const TraceFile& trace) {
    ScopeLifetimes out;
    out.trace = trace.path();
    out.step = options_.step;
    out.device = options_.device;
    out.from_ns = options_.from_ns;
    out.to_ns = options_.to_ns;
    // Subtree sums: children have larger depths, so deepest first.
    std::vector<uint32_t> by_depth;
    for (uint32_t id = 1; id < scopes_.size(); ++id)
      if (scopes_[id].depth > 0) by_depth.push_back(id);
    std::stable_sort(by_depth.begin(), by_depth.end(),
                     [&](uint32_t a, uint32_t b) { return scopes_[a].depth > scopes_[b].depth; });
    std::vector<Accumulator> sums(scopes_.size());
    for (uint32_t id : by_depth) {
      add_counts(sums[id], own_[id]);
      if (scopes_[id].parent != 0) add_counts(sums[scopes_[id].parent], sums[id]);
    }
    for (uint32_t id : tree_order()) {
      if (sums[id].allocations == 0) continue;
      const ScopeInfo& info = scopes_[id];
      ScopeRow row{id,         info.parent, info.depth, info.name, info.path,
                   info.layer, info.phase,  {},         {}};
      row.own = measures(own_[id], own_[id]);
      row.subtree = measures(subtree_[id], sums[id]);
      out.scopes.push_back(std::move(row));
    }
    out.unscoped = measures(own_[0], own_[0]);
    std::vector<Accumulator> phase_counts(phases_.size());
    for (uint32_t id = 1; id < scopes_.size(); ++id)
      if (scopes_[id].phase_index >= 0)
        add_counts(phase_counts[size_t(scopes_[id].phase_index)], own_[id]);
    for (size_t i = 0; i < phases_.size(); ++i)
      if (phases_[i].allocations)
        out.phases.push_back({scopes_.phases()[i], measures(phases_[i], phase_counts[i])});
    names_pools(trace);
    for (auto& [id, pool] : pools_)
      if (!options_.device || pool.device == *options_.device) out.pools.push_back(pool.usage);
    std::sort(out.pools.begin(), out.pools.end(),
              [](const PoolUsage& a, const PoolUsage& b) { return a.id < b.id; });
    return out;
  }

 private:
  struct Entered {
    uint32_t scope;
    uint64_t seq;
  };

  static bool is_memory(const Block& b) {
    return b.kind != EventKind::kCudaVmmMap && b.kind != EventKind::kCudaReserve;
  }
  // The memory a block is in: a pool sub-allocation is where its pool's reserve is.
  int64_t memory_of(const Block& b) const {
    if (b.family != AllocFamily::kPool) return b.device;
    auto pool = pools_.find(b.pool);
    return pool == pools_.end() ? kHostMemory : pool->second.device;
  }
  bool selected(const Block& b) const {
    if (options_.device && memory_of(b) != *options_.device) return false;
    if (options_.step && b.step != *options_.step) return false;
    if (options_.from_ns && b.time_ns < *options_.from_ns) return false;
    return !options_.to_ns || b.time_ns < *options_.to_ns;
  }
  uint32_t scope_of(const Block& b) const {
    return b.scope < scopes_.size() && scopes_[b.scope].depth > 0 ? b.scope : 0;
  }
  Accumulator* phase_of(uint32_t s) {
    const int index = s ? scopes_[s].phase_index : -1;
    return index >= 0 ? &phases_[size_t(index)] : nullptr;
  }

  // What sums over a subtree: counts, bytes, step-end bytes, lifetimes.
  static void add_counts(Accumulator& to, const Accumulator& from) {
    to.allocations += from.allocations;
    to.bytes += from.bytes;
    to.pool_bytes += from.pool_bytes;
    to.live_at_step_end += from.live_at_step_end;
    if (from.lifetimes) to.histogram().merge(*from.lifetimes);
  }

  // Peaks and outliving from `live`, counts from `counts`.
  ScopeMeasures measures(const Accumulator& live, const Accumulator& counts) const {
    ScopeMeasures m;
    m.allocations = counts.allocations;
    m.bytes = counts.bytes;
    m.pool_bytes = counts.pool_bytes;
    m.live_at_step_end_bytes = counts.live_at_step_end;
    if (counts.lifetimes) {
      m.median_lifetime_ns = counts.lifetimes->quantile(0.5);
      m.p95_lifetime_ns = counts.lifetimes->quantile(0.95);
    }
    m.peak_live_bytes = live.peak;
    m.high_water_bytes = live.high_water;
    m.outliving_bytes = live.outliving_bytes;
    m.outliving_blocks = live.outliving_blocks;
    for (const auto& [scope, totals] : live.freed_in) {
      std::string where = scope == kNotFreed           ? "(not freed)"
                          : scope_of_id(scope).empty() ? "(no scope)"
                                                       : scope_of_id(scope);
      m.outliving_freed_in.push_back({where, totals.first, totals.second});
    }
    std::sort(m.outliving_freed_in.begin(), m.outliving_freed_in.end(),
              [](const FreedIn& a, const FreedIn& b) {
                return a.bytes != b.bytes ? a.bytes > b.bytes : a.scope < b.scope;
              });
    if (m.outliving_freed_in.size() > options_.freed_in_top)
      m.outliving_freed_in.resize(options_.freed_in_top);
    return m;
  }

  const std::string& scope_of_id(uint32_t id) const { return scopes_[id].path; }

  // Depth first, children in id order (the order they were first entered).
  std::vector<uint32_t> tree_order() const {
    std::vector<std::vector<uint32_t>> children(scopes_.size());
    std::vector<uint32_t> roots;
    for (uint32_t id = 1; id < scopes_.size(); ++id) {
      if (scopes_[id].depth == 0) continue;
      const uint32_t parent = scopes_[id].parent;
      (parent && parent < scopes_.size() ? children[parent] : roots).push_back(id);
    }
    std::vector<uint32_t> order, pending(roots.rbegin(), roots.rend());
    while (!pending.empty()) {
      const uint32_t id = pending.back();
      pending.pop_back();
      order.push_back(id);
      pending.insert(pending.end(), children[id].rbegin(), children[id].rend());
    }
    return order;
  }

  void names_pools(const TraceFile& trace) {
    Statement s(trace.db(),
                "SELECT p.id, coalesce(str.value, '') FROM pools p "
                "LEFT JOIN strings str ON str.id = p.name_id");
    std::unordered_map<int64_t, std::string> names;
    while (s.step()) names[s.column_int64(0)] = s.column_text(1);
    for (auto& [id, pool] : pools_) {
      pool.usage.id = id;
      pool.usage.name = names.count(id) ? names[id] : "";
    }
  }

  const ScopeTable& scopes_;
  const ScopeLifetimesOptions& options_;
  std::unordered_map<int64_t, int64_t> backing_;  // block id -> pool id
  std::vector<Accumulator> own_, subtree_, phases_;
  std::unordered_map<int64_t, std::vector<Entered>> stacks_;  // per thread, outermost first
  std::unordered_map<int64_t, PoolState> pools_;
  uint64_t process_live_ = 0;
};

bool has_pools(const TraceFile& trace) {
  Statement s(trace.db(), "SELECT 1 FROM pools LIMIT 1");
  return s.step();
}

}  // namespace

std::string phase_of_path(const std::string& path) {
  const auto parts = split_path(path);
  return std::string(parts[phase_component(parts)]);
}

std::string layer_of_path(const std::string& path) {
  const auto parts = split_path(path);
  std::string layer;
  for (size_t i = 0; i < phase_component(parts); ++i) {
    if (i) layer += '/';
    layer += parts[i];
  }
  return layer;
}

ScopeLifetimes scope_lifetimes(const TraceFile& trace, const ScopeLifetimesOptions& options) {
  const ScopeTable scopes(trace);
  // A pool's backing blocks are known only once a sub-allocation lands in
  // them, after they were allocated: a first pass finds them, so the scope
  // that allocated a chunk never counts it, not even for a moment.
  ScopeAggregator aggregator(
      scopes, options,
      has_pools(trace) ? find_pool_backing(trace) : std::unordered_map<int64_t, int64_t>{});
  BlockReplay replay(aggregator);
  trace.for_each_event([&](const EventRecord& e, int64_t thread) {
    aggregator.event(e, thread);
    replay.event(e, thread);
  });
  const IndexStats stats = replay.finish();
  ScopeLifetimes out = aggregator.result(trace);
  out.events = stats.events;
  return out;
}

std::string memory_name(int64_t device) {
  return device == kHostMemory ? "host" : "cuda:" + std::to_string(device);
}

std::optional<int64_t> parse_memory_name(const std::string& name) {
  if (name == "host") return kHostMemory;
  if (name.rfind("cuda:", 0) != 0 || name.size() == 5) return std::nullopt;
  int64_t device = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || device > 255) return std::nullopt;
    device = device * 10 + (name[i] - '0');
  }
  return device <= 255 ? std::optional<int64_t>(device) : std::nullopt;
}

}  // namespace memtide::analysis
