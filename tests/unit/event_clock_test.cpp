#include <gtest/gtest.h>

#include "event_clock.h"

namespace memtide::agent {
namespace {

TEST(TickConverter, InterpolatesBetweenCalibrationPoints) {
  if (!g_event_clock_is_tsc) init_event_clock();
  if (!g_event_clock_is_tsc) GTEST_SKIP() << "no invariant TSC: events carry ns directly";
  TickConverter converter;
  converter.add_point(1000, 5000);
  converter.add_point(3000, 6000);  // 0.5 ns per tick
  converter.add_point(4000, 8000);  // 2 ns per tick
  EXPECT_EQ(converter.to_ns(1000), 5000u);
  EXPECT_EQ(converter.to_ns(2000), 5500u);
  EXPECT_EQ(converter.to_ns(3500), 7000u);
  EXPECT_EQ(converter.to_ns(4000), 8000u);
  EXPECT_EQ(converter.to_ns(500), 4750u);   // before the first point: the oldest segment's rate
  EXPECT_EQ(converter.to_ns(4500), 9000u);  // after the newest: the newest segment's rate
  converter.add_point(3999, 1);             // never backwards
  EXPECT_EQ(converter.to_ns(4000), 8000u);
}

TEST(TickConverter, RealClockAgreesWithinAMicrosecond) {
  init_event_clock();
  if (!g_event_clock_is_tsc) GTEST_SKIP() << "no invariant TSC";
  TickConverter converter;
  converter.calibrate();
  struct timespec pause = {0, 20 * 1000 * 1000};
  nanosleep(&pause, nullptr);
  converter.calibrate();
  // The tick reading is bracketed by two clock readings; a preemption between
  // them (likely under a sanitizer on a loaded machine) widens the bracket,
  // so the narrowest of a few tries is kept.
  uint64_t ticks = 0, before = 0, after = UINT64_MAX / 2;
  for (int attempt = 0; attempt < 50 && after - before > 2000; ++attempt) {
    const uint64_t b = monotonic_clock_ns();
    const uint64_t t = event_ticks();
    const uint64_t a = monotonic_clock_ns();
    if (a - b < after - before) ticks = t, before = b, after = a;
  }
  converter.calibrate();
  const int64_t error = int64_t(converter.to_ns(ticks)) - int64_t(before + (after - before) / 2);
  EXPECT_LT(std::abs(error), 1000 + int64_t(after - before) / 2)
      << error << " (bracket " << after - before << " ns)";
}

}  // namespace
}  // namespace memtide::agent
