// The one place where the timeline maps time to x and back (hotspot's
// mapTimeToX): the visible window of absolute trace time over a plot of
// some pixels' width, and the zoom and pan arithmetic on it, clamped to the
// extent of the data. Plain arithmetic, no Qt, unit-tested.
#pragma once

#include <cstdint>

namespace memtide::gui {

class TimelineAxis {
 public:
  // The narrowest window: zooming stops at this many ns across the plot.
  static constexpr uint64_t kMinWindowNs = 1000;

  // The times that can be shown, [start, end); resets the window to all of it.
  void setExtent(uint64_t start_ns, uint64_t end_ns);
  void setWidth(double pixels);  // of the plot, > 0

  uint64_t extentStart() const { return extent_start_; }
  uint64_t extentEnd() const { return extent_end_; }
  uint64_t windowStart() const { return start_; }
  uint64_t windowEnd() const { return end_; }
  uint64_t windowLength() const { return end_ - start_; }
  double width() const { return width_; }
  bool showsEverything() const { return start_ == extent_start_ && end_ == extent_end_; }

  // x is relative to the plot's left edge; times outside the window map
  // outside [0, width).
  double timeToX(uint64_t time_ns) const;
  uint64_t xToTime(double x) const;  // clamped to the extent
  double nsPerPixel() const { return double(windowLength()) / width_; }

  // Shows [start, end) as far as the extent allows: a window longer than
  // the extent shows all of it, one past an edge slides back inside.
  void setWindow(uint64_t start_ns, uint64_t end_ns);
  // factor > 1 zooms in, < 1 out; the time under `anchor_x` stays under it.
  void zoom(double factor, double anchor_x);
  // Moves the view by `dx` pixels: positive shows earlier times (the
  // content follows a drag to the right).
  void pan(double dx);
  void showAll() { setWindow(extent_start_, extent_end_); }

 private:
  uint64_t extent_start_ = 0, extent_end_ = 1;
  uint64_t start_ = 0, end_ = 1;
  double width_ = 1;
};

}  // namespace memtide::gui
