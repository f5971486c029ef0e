// Lifetimes as a log-bucketed histogram (16 buckets per power of two), so a
// scope's median and p95 need a fixed 8 KiB however many blocks it made.
// Values under 32 ns are exact; above, a quantile is the middle of its
// bucket, within 1/32 of the true value.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace memtide::analysis {

class LifetimeHistogram {
 public:
  void add(uint64_t ns) {
    ++counts_[bucket(ns)];
    ++total_;
  }
  void merge(const LifetimeHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
  }
  uint64_t count() const { return total_; }
  // The q-quantile (0 < q <= 1); 0 when empty.
  uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    uint64_t rank = uint64_t(q * double(total_) + 0.999999);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return middle(i);
    }
    return middle(kBuckets - 1);
  }

 private:
  static constexpr size_t kExact = 32;
  static constexpr size_t kBuckets = kExact + (64 - 5) * 16;

  static size_t bucket(uint64_t v) {
    if (v < kExact) return size_t(v);
    const int e = 63 - std::countl_zero(v);  // >= 5
    const size_t sub = size_t(v >> (e - 4)) & 15;
    return kExact + size_t(e - 5) * 16 + sub;
  }
  static uint64_t middle(size_t b) {
    if (b < kExact) return b;
    const int e = int((b - kExact) / 16) + 5;
    const uint64_t sub = (b - kExact) % 16;
    const uint64_t low = (uint64_t(16) + sub) << (e - 4);
    return low + (uint64_t(1) << (e - 4)) / 2;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};

}  // namespace memtide::analysis
