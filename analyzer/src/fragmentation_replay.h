// The single pass behind analyze_fragmentation: replays the events into a
// LiveLayout, takes the allocator-overhead and fragmentation series at the
// sample times, and the detailed states at the moments asked for. The heap
// peak's state is recovered by undoing the changes logged since the peak;
// when that log outgrows the live set, the state is taken then, so the work
// stays linear in the events and memory bounded by the live blocks.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "live_layout.h"
#include "memtide/analysis/fragmentation.h"
#include "memtide_common/event.h"

namespace memtide::analysis {

// One row of the samples table.
struct SampleRow {
  uint64_t time_ns = 0;
  uint64_t rss_bytes = 0;
  uint64_t live_usable_bytes = 0;
  std::optional<uint64_t> arena_bytes, mmapped_bytes;
};

class FragmentationReplay {
 public:
  // `mark_id`: the string id of the marker asked for, 0 for none.
  FragmentationReplay(const FragmentationOptions& options, std::vector<SampleRow> samples,
                      uint32_t mark_id, FragmentationReport& out);
  void event(const EventRecord& e);
  // Takes the remaining samples and the end, peak and missing states.
  void finish();

 private:
  struct PoolCounters {
    uint64_t in_use = 0, peak_in_use = 0;
    uint64_t segment_bytes = 0, peak_segment_bytes = 0;
    uint64_t allocations = 0;
    bool destroyed = false;
  };

  void deadlines(uint64_t time_ns);
  void update_deadline();
  void take_sample(size_t index);

  void open_heap(const EventRecord& e, uint64_t alignment);
  void close_heap(uint64_t address);
  void map(const EventRecord& e);
  void unmap(uint64_t address, uint64_t length);
  void pool_alloc(const EventRecord& e);
  void pool_free(uint64_t address);
  void claim_backing(int32_t pool, uint64_t address);
  void open_gpu(const EventRecord& e);
  // Erases a heap, GPU or mapped block, and the segment bytes of the pool it backed.
  void drop(LiveLayout::Space space, uint64_t address);
  // The accounting of a block gone: live heap bytes, its pool's segment bytes.
  void forget(const LiveBlock& b, bool heap);
  void add_segment(const LiveBlock& b);
  PoolCounters& pool(int32_t id) { return pools_[id]; }

  void after_event();
  FragmentationState state(const std::string& label, uint64_t time_ns, uint64_t seq,
                           uint64_t live_heap) const;
  void take_peak_state();

  const FragmentationOptions& options_;
  std::vector<SampleRow> samples_;
  std::vector<bool> series_sample_;  // which samples get a fragmentation point
  uint32_t mark_id_;
  FragmentationReport& out_;

  LiveLayout layout_;
  std::map<int32_t, PoolCounters> pools_;
  uint64_t live_heap_ = 0;
  uint64_t last_time_ = 0, last_seq_ = 0;
  bool new_peak_ = false;
  std::optional<FragmentationState> peak_state_, at_time_state_, at_mark_state_;

  size_t next_sample_ = 0;
  uint64_t deadline_ = UINT64_MAX;  // the earliest time after which something is due
};

}  // namespace memtide::analysis
