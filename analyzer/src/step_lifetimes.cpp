#include "memtide/analysis/step_lifetimes.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "block_replay.h"
#include "memtide/analysis/scope_lifetimes.h"
#include "sqlite_util.h"

namespace memtide::analysis {

namespace {

struct ScopeNames {
  std::string path, layer;
};

// Every block allocated during `step`, the largest `max_bars` kept.
class StepBlocks : public BlockSink {
 public:
  StepBlocks(int64_t step, size_t max_bars, const std::unordered_map<uint32_t, ScopeNames>& scopes)
      : step_(step), max_bars_(max_bars), scopes_(scopes) {}

  void block(const Block& b, const BlockEnd& end) override {
    if (b.step != step_) return;
    if (b.family == AllocFamily::kGpu &&
        (b.kind == EventKind::kCudaVmmMap || b.kind == EventKind::kCudaReserve))
      return;
    LifetimeBar bar;
    if (auto scope = scopes_.find(b.scope); scope != scopes_.end()) {
      bar.layer = scope->second.layer;
      bar.scope = scope->second.path;
    }
    bar.memory = b.family == AllocFamily::kGpu    ? "cuda:" + std::to_string(b.device)
                 : b.family == AllocFamily::kPool ? "pool"
                                                  : "heap";
    bar.start_ns = b.time_ns;
    bar.end_ns = end.freed ? end.freed->time_ns : 0;
    bar.bytes = b.size;
    bar.stack = b.stack;
    bar.thread_id = b.thread_id;
    ++seen_;
    largest_.push(bar);
    if (largest_.size() > max_bars_) largest_.pop();
  }
  void unmatched_free(const EventRecord&, int64_t) override {}
  void step(int64_t step, const EventRecord& e, int64_t, int64_t) override {
    if (step == step_) start_ns_ = e.time_ns;
    if (step == step_ + 1 && end_ns_ == 0) end_ns_ = e.time_ns;
  }

  StepGantt gantt(uint64_t trace_end_ns) {
    StepGantt g;
    g.step = step_;
    g.start_ns = start_ns_;
    g.end_ns = end_ns_ ? end_ns_ : trace_end_ns;
    g.bars_left_out = seen_ - largest_.size();
    while (!largest_.empty()) {
      g.bars.push_back(largest_.top());
      largest_.pop();
    }
    std::sort(g.bars.begin(), g.bars.end(),
              [](const LifetimeBar& a, const LifetimeBar& b) { return a.start_ns < b.start_ns; });
    for (const LifetimeBar& bar : g.bars)
      if (std::find(g.layers.begin(), g.layers.end(), bar.layer) == g.layers.end())
        g.layers.push_back(bar.layer);
    return g;
  }

 private:
  struct SmallerFirst {
    bool operator()(const LifetimeBar& a, const LifetimeBar& b) const { return a.bytes > b.bytes; }
  };
  int64_t step_;
  size_t max_bars_;
  const std::unordered_map<uint32_t, ScopeNames>& scopes_;
  std::priority_queue<LifetimeBar, std::vector<LifetimeBar>, SmallerFirst> largest_;
  uint64_t seen_ = 0, start_ns_ = 0, end_ns_ = 0;
};

}  // namespace

StepGantt step_lifetimes(const TraceFile& trace, int64_t step,
                         const StepLifetimesOptions& options) {
  std::unordered_map<uint32_t, ScopeNames> scopes;
  Statement paths(trace.db(), "SELECT id, path FROM scope_paths");
  while (paths.step()) {
    const std::string path = paths.column_text(1);
    scopes[uint32_t(paths.column_int64(0))] = {path, layer_of_path(path)};
  }
  StepBlocks blocks(step, options.max_bars, scopes);
  BlockReplay replay(blocks);
  uint64_t last_ns = 0;
  trace.for_each_event([&](const EventRecord& e, int64_t thread) {
    last_ns = std::max(last_ns, e.time_ns);
    replay.event(e, thread);
  });
  replay.finish();
  return blocks.gantt(last_ns);
}

}  // namespace memtide::analysis
