#include "widgets/timeline_columns.h"

#include <algorithm>
#include <cmath>

namespace memtide::gui {

TimelineColumns foldColumns(const analysis::MemoryTimeline& series, const TimelineAxis& axis) {
  TimelineColumns out;
  out.count = std::max(1, int(std::ceil(axis.width())));
  out.tracks.assign(series.tracks.size(), std::vector<TimelineColumn>(size_t(out.count)));
  if (series.bucket_count == 0) return out;
  const double ns_per_px = axis.nsPerPixel();
  for (int c = 0; c < out.count; ++c) {
    const double lo = double(axis.windowStart()) + c * ns_per_px;
    const double hi = lo + ns_per_px;
    if (hi <= double(series.start_ns) || lo >= double(series.end_ns)) continue;
    const uint32_t first = series.bucket_of(uint64_t(std::max(lo, double(series.start_ns))));
    uint32_t last = series.bucket_of(uint64_t(std::ceil(hi)) - 1);
    last = std::max(first, last);
    int64_t stacked = 0;
    for (size_t t = 0; t < series.tracks.size(); ++t) {
      const analysis::TimelineTrack& track = series.tracks[t];
      TimelineColumn& column = out.tracks[t][size_t(c)];
      column.valid = true;
      column.min = track.buckets[first].min;
      column.max = track.buckets[first].max;
      for (uint32_t b = first + 1; b <= last; ++b) {
        column.min = std::min(column.min, track.buckets[b].min);
        column.max = std::max(column.max, track.buckets[b].max);
      }
      column.last = track.buckets[last].last;
      if (track.stacked)
        stacked += column.max;
      else
        out.line_top = std::max(out.line_top, column.max);
    }
    out.stacked_top = std::max(out.stacked_top, stacked);
  }
  return out;
}

}  // namespace memtide::gui
