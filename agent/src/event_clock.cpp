#include "event_clock.h"

#include <cpuid.h>
#include <time.h>

namespace memtide::agent {

// Read by every hook: a line of its own, so that no data another thread
// writes often can land beside it.
alignas(64) bool g_event_clock_is_tsc = false;

namespace {

bool has_invariant_tsc() {
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid_max(0x80000000, nullptr) < 0x80000007) return false;
  __cpuid(0x80000007, eax, ebx, ecx, edx);
  return (edx >> 8) & 1;
}

bool g_initialised = false;

}  // namespace

uint64_t monotonic_clock_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

void init_event_clock() {
  if (g_initialised) return;
  g_initialised = true;
  g_event_clock_is_tsc = has_invariant_tsc();
  if (g_event_clock_is_tsc) tick_converter().calibrate();
}

TickConverter& tick_converter() {
  static TickConverter converter;
  return converter;
}

void TickConverter::add_point(uint64_t ticks, uint64_t ns) {
  if (count_ > 0 && ticks <= points_[newest_].ticks) return;
  newest_ = (newest_ + 1) % kPoints;
  points_[newest_] = Point{ticks, ns};
  if (count_ < kPoints) ++count_;
}

void TickConverter::calibrate() {
  // Bracket the clock read with two TSC reads and take their midpoint.
  uint64_t before = __rdtsc();
  uint64_t ns = monotonic_clock_ns();
  uint64_t after = __rdtsc();
  add_point(before + (after - before) / 2, ns);
}

uint64_t TickConverter::to_ns(uint64_t ticks) const {
  if (!g_event_clock_is_tsc) return ticks;
  if (count_ == 0) return monotonic_clock_ns();
  if (count_ == 1) {
    // One point: assume 1 GHz until a second point gives the real rate.
    const Point& p = points_[newest_];
    return p.ns + (static_cast<int64_t>(ticks - p.ticks));
  }
  // Walk back from the newest point to the segment holding `ticks`.
  int hi = newest_;
  int lo = (hi - 1 + kPoints) % kPoints;
  for (int step = 1; step < count_ - 1 && ticks < points_[lo].ticks; ++step) {
    hi = lo;
    lo = (lo - 1 + kPoints) % kPoints;
  }
  const Point& a = points_[lo];
  const Point& b = points_[hi];
  const double rate = double(b.ns - a.ns) / double(b.ticks - a.ticks);
  const double offset = double(static_cast<int64_t>(ticks - a.ticks)) * rate;
  return a.ns + static_cast<int64_t>(offset);
}

}  // namespace memtide::agent
