// Event timestamps. Reading CLOCK_MONOTONIC costs 25 ns or more per call on
// virtual machines, a fifth of the agent's cost per event; the invariant TSC
// costs about 10. When the CPU has one, events are stamped with raw TSC ticks
// and the writer converts them to CLOCK_MONOTONIC nanoseconds, interpolating
// between (ticks, ns) calibration points it takes every cycle. Without an
// invariant TSC, events carry CLOCK_MONOTONIC ns directly.
#pragma once

#include <x86intrin.h>

#include <cstdint>

namespace memtide::agent {

// CLOCK_MONOTONIC in nanoseconds.
uint64_t monotonic_clock_ns();

extern bool g_event_clock_is_tsc;

// Decides the clock and takes the first calibration point; idempotent.
void init_event_clock();

inline uint64_t event_ticks() {
  return g_event_clock_is_tsc ? __rdtsc() : monotonic_clock_ns();
}

// Converts event ticks to CLOCK_MONOTONIC ns. Only the writer adds points;
// the history lives in process memory so a forked child keeps converting
// ticks taken before the fork.
class TickConverter {
 public:
  void add_point(uint64_t ticks, uint64_t ns);
  // Takes a point now (writer thread, once per cycle).
  void calibrate();
  uint64_t to_ns(uint64_t ticks) const;

 private:
  static constexpr int kPoints = 512;
  struct Point {
    uint64_t ticks, ns;
  };
  Point points_[kPoints] = {};
  int count_ = 0;    // points stored (up to kPoints)
  int newest_ = -1;  // index of the newest point
};

TickConverter& tick_converter();

}  // namespace memtide::agent
