#include "widgets/timeline_axis.h"

#include <algorithm>
#include <cmath>

namespace memtide::gui {

void TimelineAxis::setExtent(uint64_t start_ns, uint64_t end_ns) {
  extent_start_ = start_ns;
  extent_end_ = std::max(end_ns, start_ns + 1);
  start_ = extent_start_;
  end_ = extent_end_;
}

void TimelineAxis::setWidth(double pixels) {
  width_ = std::max(1.0, pixels);
}

double TimelineAxis::timeToX(uint64_t time_ns) const {
  return (double(time_ns) - double(start_)) * width_ / double(windowLength());
}

uint64_t TimelineAxis::xToTime(double x) const {
  const double t = double(start_) + x * double(windowLength()) / width_;
  if (t <= double(extent_start_)) return extent_start_;
  if (t >= double(extent_end_)) return extent_end_;
  return uint64_t(std::llround(t));
}

void TimelineAxis::setWindow(uint64_t start_ns, uint64_t end_ns) {
  const uint64_t extent = extent_end_ - extent_start_;
  uint64_t length = end_ns > start_ns ? end_ns - start_ns : 0;
  length = std::clamp(length, std::min(kMinWindowNs, extent), extent);
  start_ = std::clamp(start_ns, extent_start_, extent_end_ - length);
  end_ = start_ + length;
}

void TimelineAxis::zoom(double factor, double anchor_x) {
  if (!(factor > 0)) return;
  const double anchor_t = double(start_) + anchor_x * double(windowLength()) / width_;
  const double length = double(windowLength()) / factor;
  const double start = anchor_t - (anchor_x / width_) * length;
  const double lo = std::max(0.0, std::round(start));
  setWindow(uint64_t(lo), uint64_t(lo + std::max(1.0, std::round(length))));
}

void TimelineAxis::pan(double dx) {
  const double shift = dx * double(windowLength()) / width_;
  const double start = std::max(double(extent_start_), double(start_) - shift);
  setWindow(uint64_t(std::llround(start)), uint64_t(std::llround(start)) + windowLength());
}

}  // namespace memtide::gui
