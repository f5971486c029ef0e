// The memory chart of the timeline page: one lane per open trace, stacked
// on a shared axis of absolute time (TimelineAxis), each lane the stacked
// live bytes by track with the measured lines over them and bands for steps
// and the main thread's scopes below. Paints only from precomputed series:
// per pixel column it folds the buckets under it (lowest, highest, last),
// so its cost follows the width, never the trace's events.
//
// Mouse: the wheel zooms around the cursor, a drag pans, a shift-drag or a
// right-drag selects a range, a click picks a moment. Keys: + and - zoom,
// the arrows pan, Home shows everything.
#pragma once

#include <QString>
#include <QWidget>
#include <memory>
#include <optional>
#include <vector>

#include "memtide/analysis/memory_timeline.h"
#include "widgets/timeline_axis.h"

namespace memtide::gui {

struct TimelineLane {
  QString title;
  // The whole run, and a finer series of part of it (or null) that is drawn
  // instead wherever it covers the window.
  std::shared_ptr<const analysis::MemoryTimeline> coarse, fine;
  bool current = false;
};

class TimelineWidget : public QWidget {
  Q_OBJECT

 public:
  explicit TimelineWidget(QWidget* parent = nullptr);

  // Replaces the lanes; the axis extent becomes the union of their runs
  // (the window is kept when it still fits).
  void setLanes(std::vector<TimelineLane> lanes);
  const std::vector<TimelineLane>& lanes() const { return lanes_; }
  // Swaps one lane's fine series in place (a refinement arrived).
  void setFine(int lane, std::shared_ptr<const analysis::MemoryTimeline> fine);

  const TimelineAxis& axis() const { return axis_; }
  void setWindow(uint64_t start_ns, uint64_t end_ns);
  void setSelection(std::optional<std::pair<uint64_t, uint64_t>> range);
  void setFocusTime(std::optional<uint64_t> time_ns);

  // Geometry, for tests and the page: the plot's left edge and width.
  static constexpr int kLeftMargin = 72, kRightMargin = 12;
  int plotLeft() const { return kLeftMargin; }
  int plotWidth() const { return std::max(1, width() - kLeftMargin - kRightMargin); }
  // The x of a time in widget coordinates.
  double xOf(uint64_t time_ns) const { return plotLeft() + axis_.timeToX(time_ns); }
  // The series a lane draws for the current window (fine when it covers it).
  const analysis::MemoryTimeline* seriesFor(int lane) const;

  QSize sizeHint() const override { return {900, 320}; }

 signals:
  void windowChanged(uint64_t start_ns, uint64_t end_ns);
  void rangeSelected(uint64_t start_ns, uint64_t end_ns);
  void timeClicked(uint64_t time_ns, int lane);

 protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void wheelEvent(QWheelEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void mouseReleaseEvent(QMouseEvent*) override;
  void keyPressEvent(QKeyEvent*) override;
  bool event(QEvent*) override;  // tooltips: every track's value under the cursor

 private:
  enum class Drag { kNone, kPan, kSelect };
  int laneAt(int y) const;
  void windowMoved();

  TimelineAxis axis_;
  std::vector<TimelineLane> lanes_;
  std::optional<std::pair<uint64_t, uint64_t>> selection_;
  std::optional<uint64_t> focus_;
  Drag drag_ = Drag::kNone;
  QPoint press_pos_;
  double last_x_ = 0;
  bool moved_ = false;
  std::optional<std::pair<uint64_t, uint64_t>> rubber_band_;
};

}  // namespace memtide::gui
