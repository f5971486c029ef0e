// Ratios over the run's time, in panes stacked over one time axis: the
// Fragmentation page's allocator overhead (× the live requested heap) and
// external fragmentation (0 to 1). Time maps to x in one place
// (mapTimeToX / mapXToTime); the axis follows a zoom (the document's
// selected range), and a click picks a moment (timeClicked).
#pragma once

#include <QColor>
#include <QString>
#include <QWidget>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace memtide::gui {

struct RatioSeries {
  QString name;
  QColor colour;
  std::vector<std::pair<uint64_t, double>> points;  // (absolute time ns, ratio), by time
};

struct RatioPane {
  QString title;
  std::vector<RatioSeries> series;
  double min_top = 1.0;             // the y axis reaches at least this
  std::optional<double> fixed_top;  // the y axis ends here (fractions: 1)
};

class RatioChart : public QWidget {
  Q_OBJECT

 public:
  explicit RatioChart(QWidget* parent = nullptr);

  void setPanes(std::vector<RatioPane> panes);
  const std::vector<RatioPane>& panes() const { return panes_; }
  // The whole run; the axis shows it unless zoomed.
  void setTimeSpan(uint64_t start_ns, uint64_t end_ns);
  // Shows only [start, end) of the run; nullopt for the whole run.
  void setZoom(std::optional<std::pair<uint64_t, uint64_t>> range);
  // The chosen moment (a solid line) and the heap peak (a dashed one).
  void setMoment(std::optional<uint64_t> time_ns);
  void setPeak(std::optional<uint64_t> time_ns);

  uint64_t domainStart() const { return domain_start_; }
  uint64_t domainEnd() const { return domain_end_; }
  QRect plotRect() const;
  double mapTimeToX(uint64_t time_ns) const;
  uint64_t mapXToTime(double x) const;
  // The y axis top of each pane, as drawn.
  double paneTop(size_t pane) const;
  // What the tooltip says at x: the time and each series' nearest value.
  QString describeAt(double x) const;

  QSize sizeHint() const override { return {720, 240}; }
  QSize minimumSizeHint() const override { return {240, 140}; }

 signals:
  void timeClicked(quint64 time_ns);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;

 private:
  QRect paneRect(size_t pane) const;
  void paintPane(QPainter& p, size_t pane) const;
  void paintTimeAxis(QPainter& p) const;

  std::vector<RatioPane> panes_;
  std::vector<double> tops_;
  uint64_t span_start_ = 0, span_end_ = 1;
  uint64_t domain_start_ = 0, domain_end_ = 1;
  bool zoomed_ = false;
  std::optional<uint64_t> moment_, peak_;
};

}  // namespace memtide::gui
