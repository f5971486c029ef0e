// Two (or more) runs' memory over time drawn over each other, each against
// the time since its own start (runs of one program start at different
// absolute times). Draws live bytes (heap + mapped + GPU) per run from the
// report's timeline points; hover shows each run's value at that offset.
#pragma once

#include <QColor>
#include <QString>
#include <QWidget>
#include <vector>

#include "memtide/analysis/report_data.h"

namespace memtide::gui {

class OverlayChart : public QWidget {
  Q_OBJECT

 public:
  struct Series {
    QString label;
    QColor colour;
    uint64_t start_ns = 0;
    std::vector<analysis::TimelinePoint> points;
  };

  explicit OverlayChart(QWidget* parent = nullptr);

  void setSeries(std::vector<Series> series);
  const std::vector<Series>& series() const { return series_; }
  // The value drawn for a point: live heap + mapped + GPU bytes.
  static uint64_t liveBytes(const analysis::TimelinePoint& point);
  // The value of a series at an offset from its start (the last point at or
  // before it; 0 before the first).
  static uint64_t valueAt(const Series& series, uint64_t offset_ns);

  QSize sizeHint() const override { return {800, 260}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;

 private:
  QRectF plotArea() const;
  uint64_t longestOffset() const;
  uint64_t highestValue() const;

  std::vector<Series> series_;
};

}  // namespace memtide::gui
