// How memtide-gui writes numbers: exact strings.
#include <gtest/gtest.h>

#include "core/format.h"

namespace memtide::gui {
namespace {

TEST(Format, BytesInIecUnits) {
  EXPECT_EQ(formatBytes(0), "0 B");
  EXPECT_EQ(formatBytes(1023), "1023 B");
  EXPECT_EQ(formatBytes(1536), "1.5 KiB");
  EXPECT_EQ(formatBytes(3u << 20), "3.0 MiB");
  EXPECT_EQ(formatSignedBytes(-512), "-512 B");
  EXPECT_EQ(formatSignedBytes(2048), "+2.0 KiB");
  EXPECT_EQ(formatSignedBytes(INT64_MIN), "-8.0 EiB");
}

TEST(Format, OffsetsShowTheirResolution) {
  EXPECT_EQ(formatOffset(1'234'567'890, 0), "+1.235 s");
  EXPECT_EQ(formatOffset(500, 1000), "+0.000 s");  // before the start: clamped
  // An axis with ticks 0.5 ms apart needs a fourth decimal, 2 us apart a sixth.
  EXPECT_EQ(formatOffset(1'500'000, 0, 500'000), "+0.0015 s");
  EXPECT_EQ(formatOffset(2'000, 0, 2'000), "+0.000002 s");
  EXPECT_EQ(formatOffset(7, 0, 1), "+0.000000007 s");
}

TEST(Format, DurationsAndCounts) {
  EXPECT_EQ(formatDuration(999), "999 ns");
  EXPECT_EQ(formatDuration(12'300'000), "12.3 ms");
  EXPECT_EQ(formatDuration(4'200'000'000), "4.20 s");
  EXPECT_EQ(formatCount(1234567), "1,234,567");
}

}  // namespace
}  // namespace memtide::gui
