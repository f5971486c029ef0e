// Drawing of TimelineWidget, apart from its interaction: where each lane and
// band lies (TimelineLayout, shared with hit-testing) and how a lane's
// folded columns become areas, lines, bands and the time axis.
#pragma once

#include <QColor>
#include <QPainter>
#include <QRect>
#include <optional>
#include <string>
#include <utility>

#include "memtide/analysis/memory_timeline.h"

namespace memtide::gui {

class TimelineWidget;

// A widget's rectangle cut into lanes (title, chart, three bands) over a
// time axis at the bottom.
class TimelineLayout {
 public:
  static constexpr int kAxisHeight = 20, kTitleHeight = 16, kBandHeight = 13, kBands = 3;
  TimelineLayout(const QRect& widget, int lanes);
  QRect lane(int i) const;
  QRect chart(int i) const;        // the plot of lane i (full widget width)
  QRect band(int i, int b) const;  // band b of lane i: 0 steps, 1 and 2 scopes
  QRect axis() const;

 private:
  QRect widget_;
  int lanes_, lane_height_;
};

// The colour of a track: by kind, shades by device or pool.
QColor trackColor(const analysis::TimelineTrack& track, int index);

class TimelinePainter {
 public:
  using Range = std::optional<std::pair<uint64_t, uint64_t>>;
  TimelinePainter(QPainter& painter, const TimelineWidget& widget, const Range& selection,
                  const Range& rubber_band, std::optional<uint64_t> focus)
      : p_(painter), w_(widget), selection_(selection), rubber_(rubber_band), focus_(focus) {}
  void paint();

 private:
  void paintLane(int lane, const TimelineLayout& layout);
  void paintAxis(const TimelineLayout& layout);
  void paintOverlays(const TimelineLayout& layout);

  QPainter& p_;
  const TimelineWidget& w_;
  const Range& selection_;
  const Range& rubber_;
  std::optional<uint64_t> focus_;
};

}  // namespace memtide::gui
