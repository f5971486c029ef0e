// Level of detail for the timeline: the buckets of a series folded into the
// plot's pixel columns, each column the lowest and highest value of every
// bucket under it and the last one, so a spike narrower than a pixel still
// reaches its height. The work is columns + buckets in the window.
#pragma once

#include <cstdint>
#include <vector>

#include "memtide/analysis/memory_timeline.h"
#include "widgets/timeline_axis.h"

namespace memtide::gui {

struct TimelineColumn {
  int64_t min = 0, max = 0, last = 0;
  bool valid = false;  // false where the series does not cover the column
};

struct TimelineColumns {
  int count = 0;
  std::vector<std::vector<TimelineColumn>> tracks;  // [track][column]
  int64_t stacked_top = 0;                          // highest sum of stacked maxima
  int64_t line_top = 0;                             // highest value of a line
};

TimelineColumns foldColumns(const analysis::MemoryTimeline& series, const TimelineAxis& axis);

}  // namespace memtide::gui
