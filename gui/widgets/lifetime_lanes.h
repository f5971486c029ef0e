// The lifetimes of one step's blocks as lanes (the HTML report's Gantt,
// interactive): one lane per layer, each block a bar from its allocation to
// its free, coloured by memory (heap, pool, cuda:N); a block still live when
// the step ended runs to the right edge, hatched. Bars that overlap in time
// stack inside their lane. Hovering a bar shows its size, scope and the top
// frames of its allocation stack; clicking one selects its scope.
#pragma once

#include <QWidget>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "memtide/analysis/report_data.h"

namespace memtide::gui {

// What a lanes job computes: the step's bars and, for each stack among
// them, its frames from the program's own innermost frame outwards (a few).
struct StepLanes {
  analysis::StepGantt gantt;
  std::unordered_map<uint32_t, std::vector<analysis::ReportFrame>> stacks;
};

class LifetimeLanes : public QWidget {
  Q_OBJECT

 public:
  explicit LifetimeLanes(QWidget* parent = nullptr);

  // `trace_start_ns` makes the axis read as offsets from the run's start.
  void setLanes(std::shared_ptr<const StepLanes> lanes, uint64_t trace_start_ns);
  const StepLanes* lanes() const { return lanes_.get(); }
  size_t barCount() const { return lanes_ ? lanes_->gantt.bars.size() : 0; }

  // Where bar `i` (of gantt.bars) is drawn, and which bar is at a point.
  QRectF barRect(size_t i) const;
  std::optional<size_t> barAt(const QPointF& point) const;
  QString toolTipFor(size_t i) const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override { return {300, 60}; }

 signals:
  void barClicked(const QString& scope_path);

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void layOut();
  double xOf(uint64_t time_ns) const;

  std::shared_ptr<const StepLanes> lanes_;
  uint64_t trace_start_ns_ = 0;
  // Per bar: its lane and its row in the lane; per lane: rows and top y.
  std::vector<int> bar_lane_, bar_row_;
  std::vector<int> lane_rows_, lane_top_;
  int height_ = 0;
  std::vector<QRectF> rects_;
};

}  // namespace memtide::gui
