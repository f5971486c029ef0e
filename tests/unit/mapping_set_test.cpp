#include <gtest/gtest.h>

#include "mapping_set.h"

namespace memtide::analysis {
namespace {

TEST(MappingSet, PartialUnmapsSplitRanges) {
  MappingSet set;
  set.map(0x10000, 0x4000);
  set.unmap(0x11000, 0x1000);  // a hole in the middle
  EXPECT_EQ(set.count(), 2u);
  EXPECT_EQ(set.bytes(), 0x3000u);
  set.unmap(0x10000, 0x800);  // the front of the first piece
  EXPECT_EQ(set.ranges().begin()->first, 0x10800u);
  set.unmap(0x0, 0x100000);  // everything
  EXPECT_EQ(set.count(), 0u);
  EXPECT_EQ(set.bytes(), 0u);
}

TEST(MappingSet, FixedMappingReplacesOverlap) {
  MappingSet set;
  set.map(0x1000, 0x3000);
  set.map(0x2000, 0x1000);
  EXPECT_EQ(set.count(), 3u);
  EXPECT_EQ(set.bytes(), 0x3000u);
}

}  // namespace
}  // namespace memtide::analysis
