#include "memtide/analysis/memory_timeline.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "block_replay.h"
#include "mapping_set.h"
#include "pool_backing.h"
#include "scope_table.h"
#include "sqlite_util.h"

namespace memtide::analysis {

namespace {

// Maps a time to its bucket. Consecutive events mostly fall in the same
// bucket, so the division runs only when an event leaves the current one.
class Buckets {
 public:
  Buckets(uint64_t start, uint64_t end, uint32_t count) : start_(start), end_(end), count_(count) {}

  uint64_t start(uint32_t i) const {
    return start_ + uint64_t((unsigned __int128)(end_ - start_) * i / count_);
  }
  // The bucket of `t`, or -1 before the range and count_ at or after its end.
  int64_t of(uint64_t t) {
    if (t >= current_lo_ && t < current_hi_) return current_;
    if (t < start_) return -1;
    if (t >= end_) return count_;
    current_ = int64_t((unsigned __int128)(t - start_) * count_ / (end_ - start_));
    // Rounding can put t one bucket off; walk to the bucket that holds it.
    while (current_ > 0 && t < start(uint32_t(current_))) --current_;
    while (current_ + 1 < count_ && t >= start(uint32_t(current_ + 1))) ++current_;
    current_lo_ = start(uint32_t(current_));
    current_hi_ = start(uint32_t(current_ + 1));
    return current_;
  }

 private:
  uint64_t start_, end_;
  int64_t count_;
  int64_t current_ = 0;
  uint64_t current_lo_ = 1, current_hi_ = 0;  // empty until the first lookup
};

// One track's running value and its buckets, filled as events arrive.
struct TrackState {
  TimelineTrack track;
  int64_t value = 0;
  int64_t filled = 0;  // buckets [0, filled) are final or open; the open one is filled - 1

  // The value changes to `v` in bucket `b` (-1: before the range).
  void set(int64_t b, int64_t v, uint32_t count) {
    // Past the range: its buckets keep the value they ended with.
    if (b >= int64_t(count)) open_until(int64_t(count) - 1);
    if (b >= 0 && b < int64_t(count)) {
      open_until(b);
      TimelineBucket& bucket = track.buckets[size_t(b)];
      bucket.min = std::min(bucket.min, v);
      bucket.max = std::max(bucket.max, v);
      bucket.last = v;
    }
    value = v;
  }
  void add(int64_t b, int64_t delta, uint32_t count) { set(b, value + delta, count); }
  // Buckets up to `b` exist; those without events repeat the value before them.
  void open_until(int64_t b) {
    while (filled <= b) track.buckets[size_t(filled++)] = {value, value, value};
  }
};

class TimelineBuilder : public BlockSink {
 public:
  TimelineBuilder(const TraceFile& trace, uint64_t start, uint64_t end, uint32_t count)
      : trace_(trace), buckets_(start, end, count), count_(count), scopes_table_(trace) {
    out_.start_ns = start;
    out_.end_ns = end;
    out_.bucket_count = count;
    heap_ = track("heap", TrackKind::kHeap, true);
    mmap_ = track("mmap", TrackKind::kMmap, true);
    load_pool_names();
    out_.main_thread_id = main_thread();
    out_.scopes.resize(2);
    // Narrower than a bucket: merged with its neighbours on the bands.
    min_width_ = std::max<uint64_t>(1, (end - start) / count);
  }

  void event(const EventRecord& e, int64_t thread_id) {
    bucket_ = buckets_.of(e.time_ns);
    time_ = e.time_ns;
    ++out_.events;
    switch (e.kind) {
      case EventKind::kMmap:
      case EventKind::kMremap:  // the old range goes with its mremap_unmap
        mapped(e.address, e.size);
        break;
      case EventKind::kMunmap:
      case EventKind::kMremapUnmap:
        unmapped(e.address, e.size);
        break;
      case EventKind::kStep:
        step(int64_t(e.aux));
        break;
      case EventKind::kScopeEnter:
        if (thread_id == out_.main_thread_id) scope_entered(uint32_t(e.aux));
        break;
      case EventKind::kScopeExit:
        if (thread_id == out_.main_thread_id) scope_left(uint32_t(e.aux));
        break;
      default:
        break;
    }
    replay_.event(e, thread_id);
  }

  void opened(const Block& b) override {
    backing_.opened(b);
    if (TrackState* t = track_of(b)) t->add(bucket_, int64_t(b.size), count_);
    if (b.family != AllocFamily::kPool) return;
    const Block* container = backing_.container_of(b);
    if (container == nullptr || reserve_of_.count(container->id)) return;
    // A block is a pool's reserve from the first sub-allocation inside it.
    reserve_of_[container->id] = b.pool;
    pool_track(b.pool, true)->add(bucket_, int64_t(container->size), count_);
  }

  void block(const Block& b, const BlockEnd&) override {
    // Called while replaying only when a block ends (freed, or replaced at
    // its address after a lost free): finish() is never called.
    backing_.ended(b);
    if (TrackState* t = track_of(b)) t->add(bucket_, -int64_t(b.size), count_);
    auto it = reserve_of_.find(b.id);
    if (it == reserve_of_.end()) return;
    pool_track(it->second, true)->add(bucket_, -int64_t(b.size), count_);
    reserve_of_.erase(it);
  }
  void unmatched_free(const EventRecord&, int64_t) override {}
  void step(int64_t, const EventRecord&, int64_t, int64_t) override {}

  void add_samples() {
    if (!has_table("samples")) return;
    {
      Statement s(trace_.db(),
                  "SELECT time_ns, rss_bytes FROM samples WHERE rss_bytes IS NOT NULL AND "
                  "time_ns < ? ORDER BY time_ns");
      s.bind(1, int64_t(out_.end_ns));
      TrackState* rss = nullptr;
      while (s.step()) {
        if (!rss) rss = track("rss", TrackKind::kRss, false);
        rss->set(buckets_.of(uint64_t(s.column_int64(0))), s.column_int64(1), count_);
      }
    }
    if (!has_table("gpu_samples")) return;
    Statement g(trace_.db(),
                "SELECT time_ns, device, driver_used_bytes FROM gpu_samples WHERE "
                "driver_used_bytes IS NOT NULL AND time_ns < ? ORDER BY time_ns");
    g.bind(1, int64_t(out_.end_ns));
    while (g.step()) {
      const int device = g.column_int(1);
      TrackState*& t = driver_[device];
      if (!t) {
        t = track("cuda:" + std::to_string(device) + " used (driver)", TrackKind::kGpuDriver,
                  false);
        t->track.device = device;
      }
      t->set(buckets_.of(uint64_t(g.column_int64(0))), g.column_int64(2), count_);
    }
  }

  MemoryTimeline finish() {
    close_scope(0, end_of_run());
    close_scope(1, end_of_run());
    if (open_step_) add_interval(out_.steps, *open_step_, end_of_run());
    std::vector<TrackState*> order;
    for (auto& t : tracks_) order.push_back(t.get());
    auto rank = [](const TrackState* t) {
      const TimelineTrack& k = t->track;
      return std::make_tuple(!k.stacked, int(k.kind), k.device, k.pool, k.name);
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](auto* a, auto* b) { return rank(a) < rank(b); });
    for (TrackState* t : order) {
      t->open_until(int64_t(count_) - 1);
      out_.tracks.push_back(std::move(t->track));
    }
    return std::move(out_);
  }

 private:
  TrackState* track(const std::string& name, TrackKind kind, bool stacked) {
    auto state = std::make_unique<TrackState>();
    state->track.name = name;
    state->track.kind = kind;
    state->track.stacked = stacked;
    state->track.buckets.resize(count_);
    tracks_.push_back(std::move(state));
    return tracks_.back().get();
  }

  TrackState* track_of(const Block& b) {
    if (b.family == AllocFamily::kPool) return pool_track(b.pool, false);
    if (b.family != AllocFamily::kGpu) return heap_;
    const GpuMemoryClass c = gpu_memory_class(b.kind);
    // Mappings view physical memory counted already; reservations hold none.
    if (c == GpuMemoryClass::kMapped || c == GpuMemoryClass::kReserved) return nullptr;
    TrackState*& t = gpu_[{b.device, int(c)}];
    if (!t) {
      const std::string device = b.device == int64_t(kGpuDeviceUnknown)
                                     ? std::string("cuda:?")
                                     : "cuda:" + std::to_string(b.device);
      t = track(device + " " + gpu_memory_class_name(c), TrackKind::kGpu, true);
      t->track.device = int(b.device);
      t->track.gpu_class = gpu_memory_class_name(c);
    }
    return t;
  }

  TrackState* pool_track(int64_t pool, bool reserve) {
    TrackState*& t = (reserve ? pool_reserve_ : pool_used_)[pool];
    if (!t) {
      auto name = pool_names_.find(pool);
      const std::string pool_name =
          name != pool_names_.end() ? name->second : "#" + std::to_string(pool);
      t = track((reserve ? "pool reserve " : "pool ") + pool_name,
                reserve ? TrackKind::kPoolReserve : TrackKind::kPoolUsed, false);
      t->track.pool = pool;
    }
    return t;
  }

  void mapped(uint64_t address, uint64_t length) {
    unmapped(address, length);
    mappings_.map(address, length);
    mmap_->add(bucket_, int64_t(length), count_);
  }
  // Removes [address, address + length) from the live mappings.
  void unmapped(uint64_t address, uint64_t length) {
    const auto& ranges = mappings_.ranges();
    const uint64_t end = address + length;
    uint64_t removed = 0;
    auto it = ranges.lower_bound(address);
    if (it != ranges.begin()) --it;
    for (; it != ranges.end() && it->first < end; ++it)
      if (it->second > address) removed += std::min(end, it->second) - std::max(address, it->first);
    if (removed == 0) return;
    mappings_.unmap(address, length);
    mmap_->add(bucket_, -int64_t(removed), count_);
  }

  void step(int64_t number) {
    if (open_step_) add_interval(out_.steps, *open_step_, time_);
    open_step_ = TimelineInterval{time_, time_, number, 1, "step " + std::to_string(number)};
  }

  void scope_entered(uint32_t id) {
    const ScopeInfo& s = scopes_table_[id];
    if (s.depth < 1 || s.depth > 2) return;
    const int level = s.depth - 1;
    // Entering a new top-level scope ends whatever was open at its level and below.
    for (int l = 1; l >= level; --l) close_scope(l, time_);
    open_scope_[level] = TimelineInterval{time_, time_, int64_t(id), 1, s.name};
  }
  void scope_left(uint32_t id) {
    const ScopeInfo& s = scopes_table_[id];
    if (s.depth < 1 || s.depth > 2) return;
    for (int l = 1; l >= s.depth - 1; --l) close_scope(l, time_);
  }
  void close_scope(int level, uint64_t t) {
    if (!open_scope_[level]) return;
    add_interval(out_.scopes[size_t(level)], *open_scope_[level], t);
    open_scope_[level].reset();
  }

  // Ends `interval` at `end` and keeps it, merged into the one before when
  // both are narrower than a bucket and touch within a bucket: the band then
  // says "N intervals" where single ones would be too thin to see.
  void add_interval(std::vector<TimelineInterval>& band, TimelineInterval interval, uint64_t end) {
    if (end < out_.start_ns || interval.start_ns >= out_.end_ns) return;  // outside the range
    interval.start_ns = std::max(interval.start_ns, out_.start_ns);
    interval.end_ns = std::min(end, out_.end_ns);
    const bool narrow = interval.end_ns - interval.start_ns < min_width_;
    if (narrow && !band.empty()) {
      TimelineInterval& last = band.back();
      const bool last_narrow = last.count > 1 || last.end_ns - last.start_ns < min_width_;
      if (last_narrow && interval.start_ns < last.end_ns + min_width_) {
        last.end_ns = std::max(last.end_ns, interval.end_ns);
        last.count += interval.count;
        last.id = -1;
        last.label.clear();
        return;
      }
    }
    band.push_back(std::move(interval));
  }

  uint64_t end_of_run() const { return std::min(last_event_time_or_end(), out_.end_ns); }
  uint64_t last_event_time_or_end() const { return std::max(time_, out_.start_ns); }

  void load_pool_names() {
    Statement s(trace_.db(),
                "SELECT p.id, coalesce(st.value, '') FROM pools p LEFT JOIN strings st ON "
                "st.id = p.name_id");
    while (s.step()) pool_names_[s.column_int64(0)] = s.column_text(1);
  }

  int64_t main_thread() const {
    Statement s(trace_.db(),
                "SELECT t.id FROM threads t LEFT JOIN processes p ON t.tid = p.pid "
                "ORDER BY p.pid IS NULL, t.id LIMIT 1");
    return s.step() ? s.column_int64(0) : 0;
  }

  bool has_table(const char* name) const {
    Statement s(trace_.db(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    s.bind(1, std::string(name));
    return s.step();
  }

  const TraceFile& trace_;
  Buckets buckets_;
  uint32_t count_;
  ScopeTable scopes_table_;
  BlockReplay replay_{*this};
  PoolBackingIndex backing_;
  MappingSet mappings_;
  std::vector<std::unique_ptr<TrackState>> tracks_;
  TrackState* heap_ = nullptr;
  TrackState* mmap_ = nullptr;
  std::map<std::pair<int64_t, int>, TrackState*> gpu_;
  std::map<int64_t, TrackState*> pool_used_, pool_reserve_;
  std::map<int, TrackState*> driver_;
  std::unordered_map<int64_t, int64_t> reserve_of_;  // backing block id -> pool
  std::map<int64_t, std::string> pool_names_;
  std::optional<TimelineInterval> open_step_;
  std::optional<TimelineInterval> open_scope_[2];
  uint64_t min_width_ = 1;
  int64_t bucket_ = -1;
  uint64_t time_ = 0;
  MemoryTimeline out_;
};

// The run's extent: the first and last event times (as `memtide info`).
std::pair<uint64_t, uint64_t> event_extent(const TraceFile& trace) {
  Statement s(trace.db(),
              "SELECT coalesce(min(first_time_ns), 0), coalesce(max(last_time_ns), 0) FROM pages");
  s.step();
  return {uint64_t(s.column_int64(0)), uint64_t(s.column_int64(1))};
}

// The last sequence number of the pages that start before `end_ns`: no
// later page holds an event inside the range.
uint64_t last_seq_before(const TraceFile& trace, uint64_t end_ns) {
  Statement s(trace.db(), "SELECT coalesce(max(last_seq), 0) FROM pages WHERE first_time_ns < ?");
  s.bind(1, int64_t(end_ns));
  s.step();
  return uint64_t(s.column_int64(0));
}

}  // namespace

int64_t TimelineTrack::max() const {
  int64_t m = 0;
  for (const TimelineBucket& b : buckets) m = std::max(m, b.max);
  return m;
}

uint64_t MemoryTimeline::bucket_start(uint32_t i) const {
  if (bucket_count == 0) return start_ns;
  return start_ns + uint64_t((unsigned __int128)(end_ns - start_ns) * i / bucket_count);
}

uint32_t MemoryTimeline::bucket_of(uint64_t t) const {
  if (bucket_count == 0 || t <= start_ns) return 0;
  if (t >= end_ns) return bucket_count - 1;
  auto b = uint32_t((unsigned __int128)(t - start_ns) * bucket_count / (end_ns - start_ns));
  while (b > 0 && t < bucket_start(b)) --b;
  while (b + 1 < bucket_count && t >= bucket_start(b + 1)) ++b;
  return b;
}

int64_t MemoryTimeline::stacked_top() const {
  int64_t top = 0;
  for (uint32_t i = 0; i < bucket_count; ++i) {
    int64_t sum = 0;
    for (const TimelineTrack& t : tracks)
      if (t.stacked) sum += t.buckets[i].max;
    top = std::max(top, sum);
  }
  return top;
}

const TimelineTrack* MemoryTimeline::find(const std::string& name) const {
  for (const TimelineTrack& t : tracks)
    if (t.name == name) return &t;
  return nullptr;
}

MemoryTimeline memory_timeline(const TraceFile& trace, const TimelineRequest& request) {
  uint64_t start = request.start_ns, end = request.end_ns;
  if (start == 0 && end == 0) {
    std::tie(start, end) = event_extent(trace);
    ++end;  // half open: the last event is inside
  }
  if (end <= start) end = start + 1;
  const uint32_t count = std::max<uint32_t>(1, request.buckets);
  TimelineBuilder builder(trace, start, end, count);
  trace.for_each_event_between(
      0, last_seq_before(trace, end),
      [&](const EventRecord& e, int64_t thread_id) { builder.event(e, thread_id); });
  builder.add_samples();
  return builder.finish();
}

}  // namespace memtide::analysis
