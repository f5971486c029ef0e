#include "widgets/ratio_chart.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "core/format.h"

namespace memtide::gui {

namespace {

constexpr int kLeft = 52, kRight = 12, kTop = 4, kAxis = 20, kPaneGap = 8;

// The y axis top: the largest visible ratio, but a start-up spike (RSS over a
// nearly empty heap) may not flatten the rest, so beyond four times the
// median the 95th percentile (with headroom) is used and the spike is clipped.
double visibleTop(const RatioPane& pane, uint64_t start, uint64_t end) {
  if (pane.fixed_top) return *pane.fixed_top;
  std::vector<double> values;
  for (const RatioSeries& s : pane.series)
    for (const auto& [t, v] : s.points)
      if (t >= start && t <= end && std::isfinite(v)) values.push_back(v);
  if (values.empty()) return pane.min_top;
  std::sort(values.begin(), values.end());
  double top = values.back();
  const double median = values[values.size() / 2];
  if (median > 0 && top > 4 * median) top = values[(values.size() - 1) * 95 / 100] * 1.25;
  return std::max(pane.min_top, top * 1.05);
}

}  // namespace

RatioChart::RatioChart(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setObjectName(QStringLiteral("ratioChart"));
}

void RatioChart::setPanes(std::vector<RatioPane> panes) {
  panes_ = std::move(panes);
  setZoom(zoomed_ ? std::optional(std::pair(domain_start_, domain_end_)) : std::nullopt);
}

void RatioChart::setTimeSpan(uint64_t start_ns, uint64_t end_ns) {
  span_start_ = start_ns;
  span_end_ = std::max(end_ns, start_ns + 1);
  setZoom(std::nullopt);
}

void RatioChart::setZoom(std::optional<std::pair<uint64_t, uint64_t>> range) {
  zoomed_ = range.has_value();
  domain_start_ = span_start_;
  domain_end_ = span_end_;
  if (range) {
    domain_start_ = std::max(range->first, span_start_);
    domain_end_ = std::min(range->second, span_end_);
    if (domain_end_ <= domain_start_) domain_end_ = domain_start_ + 1;
  }
  tops_.clear();
  for (const RatioPane& pane : panes_)
    tops_.push_back(visibleTop(pane, domain_start_, domain_end_));
  update();
}

void RatioChart::setMoment(std::optional<uint64_t> time_ns) {
  moment_ = time_ns;
  update();
}

void RatioChart::setPeak(std::optional<uint64_t> time_ns) {
  peak_ = time_ns;
  update();
}

QRect RatioChart::plotRect() const {
  return QRect(kLeft, kTop, std::max(1, width() - kLeft - kRight),
               std::max(1, height() - kTop - kAxis));
}

QRect RatioChart::paneRect(size_t pane) const {
  const QRect plot = plotRect();
  const int n = std::max<int>(1, int(panes_.size()));
  const int h = std::max(1, (plot.height() - (n - 1) * kPaneGap) / n);
  return QRect(plot.left(), plot.top() + int(pane) * (h + kPaneGap), plot.width(), h);
}

double RatioChart::mapTimeToX(uint64_t time_ns) const {
  const QRect plot = plotRect();
  const double f = (double(time_ns) - double(domain_start_)) / double(domain_end_ - domain_start_);
  return plot.left() + f * plot.width();
}

uint64_t RatioChart::mapXToTime(double x) const {
  const QRect plot = plotRect();
  const double f = std::clamp((x - plot.left()) / std::max(1, plot.width()), 0.0, 1.0);
  return domain_start_ + uint64_t(std::llround(f * double(domain_end_ - domain_start_)));
}

double RatioChart::paneTop(size_t pane) const {
  return pane < tops_.size() ? tops_[pane] : 1.0;
}

QString RatioChart::describeAt(double x) const {
  const uint64_t t = mapXToTime(x);
  QString text = formatOffset(t, span_start_);
  for (const RatioPane& pane : panes_)
    for (const RatioSeries& s : pane.series) {
      if (s.points.empty()) continue;
      auto it =
          std::lower_bound(s.points.begin(), s.points.end(), t,
                           [](const auto& point, uint64_t time) { return point.first < time; });
      // The nearer of the points either side of t.
      if (it == s.points.end())
        it = std::prev(it);
      else if (it != s.points.begin() && t - std::prev(it)->first < it->first - t)
        it = std::prev(it);
      text += QStringLiteral("\n%1: %2 (at %3)")
                  .arg(s.name)
                  .arg(it->second, 0, 'f', 3)
                  .arg(formatOffset(it->first, span_start_));
    }
  return text;
}

void RatioChart::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  if (panes_.empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter, tr("No samples"));
    return;
  }
  for (size_t i = 0; i < panes_.size(); ++i) paintPane(p, i);
  paintTimeAxis(p);
  const QRect plot = plotRect();
  auto vertical = [&](uint64_t t, QPen pen) {
    if (t < domain_start_ || t > domain_end_) return;
    p.setPen(pen);
    const double x = mapTimeToX(t);
    p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
  };
  if (peak_) vertical(*peak_, QPen(QColor(0x80, 0x80, 0x80), 1, Qt::DashLine));
  if (moment_) vertical(*moment_, QPen(QColor(0xc0, 0x30, 0x20), 2));
}

void RatioChart::paintPane(QPainter& p, size_t index) const {
  const RatioPane& pane = panes_[index];
  const QRect r = paneRect(index);
  const double top = paneTop(index);
  p.setPen(palette().color(QPalette::Mid));
  p.drawRect(r.adjusted(0, 0, -1, -1));
  // Grid and y labels at 0, half and the top.
  for (double f : {0.0, 0.5, 1.0}) {
    const double y = r.bottom() - f * r.height();
    p.setPen(QPen(palette().color(QPalette::Midlight), 1, Qt::DotLine));
    p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y));
    p.setPen(palette().color(QPalette::Text));
    // Kept inside the pane: the top label would clip at the widget's edge.
    const double label_y = std::clamp(y - 8, double(r.top()), double(r.bottom()) - 16);
    p.drawText(QRectF(0, label_y, kLeft - 4, 16), Qt::AlignRight | Qt::AlignVCenter,
               QString::number(f * top, 'g', 3));
  }
  p.save();
  p.setClipRect(r);
  p.setRenderHint(QPainter::Antialiasing);
  for (const RatioSeries& s : pane.series) {
    QPainterPath path;
    bool started = false;
    for (const auto& [t, v] : s.points) {
      const QPointF point(mapTimeToX(t), r.bottom() - std::min(v / top, 1.05) * r.height());
      if (started)
        path.lineTo(point);
      else
        path.moveTo(point);
      started = true;
    }
    p.setPen(QPen(s.colour, 1.5));
    p.drawPath(path);
    if (s.points.size() == 1) p.drawEllipse(path.currentPosition(), 2, 2);
  }
  p.restore();
  // Title and legend along the pane's top.
  QFontMetrics fm(font());
  int x = r.left() + 6;
  const int y = r.top() + fm.ascent() + 3;
  p.setPen(palette().color(QPalette::Text));
  p.drawText(x, y, pane.title);
  x += fm.horizontalAdvance(pane.title) + 12;
  for (const RatioSeries& s : pane.series) {
    p.fillRect(QRect(x, y - fm.ascent() / 2 - 1, 12, 3), s.colour);
    x += 16;
    p.drawText(x, y, s.name);
    x += fm.horizontalAdvance(s.name) + 12;
  }
}

void RatioChart::paintTimeAxis(QPainter& p) const {
  const QRect plot = plotRect();
  p.setPen(palette().color(QPalette::Text));
  constexpr int kTicks = 5;
  for (int i = 0; i <= kTicks; ++i) {
    const double x = plot.left() + double(i) / kTicks * plot.width();
    const QString label =
        formatOffset(mapXToTime(x), span_start_, (domain_end_ - domain_start_) / kTicks);
    const Qt::Alignment align = i == 0        ? Qt::AlignLeft
                                : i == kTicks ? Qt::AlignRight
                                              : Qt::AlignHCenter;
    const double w = 80;
    const double left = i == 0 ? x : i == kTicks ? x - w : x - w / 2;
    p.drawText(QRectF(left, plot.bottom() + 2, w, kAxis - 2), align | Qt::AlignVCenter, label);
  }
  if (zoomed_) {
    p.setPen(palette().color(QPalette::Highlight));
    p.drawText(QRect(plot.right() - 260, plot.top(), 256, 16), Qt::AlignRight,
               tr("zoomed to the selected range"));
  }
}

void RatioChart::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton || panes_.empty()) return;
  if (!plotRect().contains(event->position().toPoint())) return;
  emit timeClicked(mapXToTime(event->position().x()));
}

void RatioChart::mouseMoveEvent(QMouseEvent* event) {
  if (panes_.empty() || !plotRect().contains(event->position().toPoint())) {
    QToolTip::hideText();
    return;
  }
  QToolTip::showText(event->globalPosition().toPoint(), describeAt(event->position().x()), this);
}

}  // namespace memtide::gui
