// Live address ranges of memory mappings, with partial unmaps splitting them.
#pragma once

#include <cstdint>
#include <map>

namespace memtide::analysis {

class MappingSet {
 public:
  void map(uint64_t address, uint64_t length) {
    unmap(address, length);  // a fixed mapping replaces what was there
    ranges_[address] = address + length;
  }

  // Removes [address, address+length) from every live range it overlaps.
  void unmap(uint64_t address, uint64_t length) {
    const uint64_t end = address + length;
    auto it = ranges_.lower_bound(address);
    if (it != ranges_.begin()) --it;
    while (it != ranges_.end() && it->first < end) {
      const uint64_t lo = it->first, hi = it->second;
      if (hi <= address) {
        ++it;
        continue;
      }
      it = ranges_.erase(it);
      if (lo < address) ranges_[lo] = address;
      if (hi > end) it = ranges_.emplace(end, hi).first, ++it;
    }
  }

  uint64_t count() const { return ranges_.size(); }
  uint64_t bytes() const {
    uint64_t total = 0;
    for (const auto& [lo, hi] : ranges_) total += hi - lo;
    return total;
  }
  const std::map<uint64_t, uint64_t>& ranges() const { return ranges_; }

 private:
  std::map<uint64_t, uint64_t> ranges_;  // start -> end
};

}  // namespace memtide::analysis
