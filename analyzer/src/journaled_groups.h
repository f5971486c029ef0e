// Live bytes by group (memory, stack, scope) with cheap snapshots at
// high-water marks: changes go to a journal; marking a peak records only the
// journal position; when the journal outgrows twice the state it is folded
// in, and the state at each marked position is copied on the way. Each
// change is applied once, so the cost is O(1) amortised per change, and
// memory is the live groups plus one snapshot per measure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace memtide::analysis {

enum class GroupMemory : uint8_t { kHeap, kPoolReserve, kPoolSub, kGpu };

struct GroupKey {
  GroupMemory memory;
  int64_t owner;  // pool id or CUDA device; 0 for the heap
  uint32_t stack, scope;
  bool operator==(const GroupKey&) const = default;
};

struct GroupKeyHash {
  size_t operator()(const GroupKey& k) const {
    uint64_t h = (uint64_t(k.stack) << 32 | k.scope) * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t(k.owner) << 8 | uint64_t(k.memory)) * 0xc2b2ae3d27d4eb4full;
    return size_t(h ^ (h >> 29));
  }
};

struct GroupTotals {
  int64_t bytes = 0, blocks = 0;
};

using GroupMap = std::unordered_map<GroupKey, GroupTotals, GroupKeyHash>;

class JournaledGroups {
 public:
  void add(const GroupKey& key, int64_t bytes, int64_t blocks) {
    journal_.push_back({key, {bytes, blocks}});
    if (journal_.size() >= limit_) fold();
  }
  // The current state is measure `m`'s new peak.
  void mark(size_t m) {
    if (m >= marks_.size()) {
      marks_.resize(m + 1);
      snapshots_.resize(m + 1);
    }
    marks_[m] = journal_.size();
  }
  // After finish(): the state at measure `m`'s last mark.
  const GroupMap& snapshot(size_t m) const {
    static const GroupMap empty;
    return m < snapshots_.size() ? snapshots_[m] : empty;
  }
  void finish() { fold(); }

 private:
  static constexpr size_t kMinJournal = size_t(1) << 16;

  void apply(const std::pair<GroupKey, GroupTotals>& change) {
    GroupTotals& t = state_[change.first];
    t.bytes += change.second.bytes;
    t.blocks += change.second.blocks;
    if (t.bytes == 0 && t.blocks == 0) state_.erase(change.first);
  }

  void fold() {
    std::vector<std::pair<size_t, size_t>> at;  // journal position, measure
    for (size_t m = 0; m < marks_.size(); ++m)
      if (marks_[m]) at.emplace_back(*marks_[m], m);
    std::sort(at.begin(), at.end());
    size_t i = 0;
    for (const auto& [position, measure] : at) {
      for (; i < position; ++i) apply(journal_[i]);
      snapshots_[measure] = state_;
      marks_[measure].reset();
    }
    for (; i < journal_.size(); ++i) apply(journal_[i]);
    journal_.clear();
    limit_ = std::max(kMinJournal, 2 * state_.size());
  }

  GroupMap state_;
  std::vector<std::pair<GroupKey, GroupTotals>> journal_;
  std::vector<std::optional<size_t>> marks_;
  std::vector<GroupMap> snapshots_;
  size_t limit_ = kMinJournal;
};

}  // namespace memtide::analysis
