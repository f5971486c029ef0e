#include "widgets/overlay_chart.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <algorithm>

#include "core/format.h"

namespace memtide::gui {

OverlayChart::OverlayChart(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumHeight(160);
}

void OverlayChart::setSeries(std::vector<Series> series) {
  series_ = std::move(series);
  update();
}

uint64_t OverlayChart::liveBytes(const analysis::TimelinePoint& p) {
  return p.heap_bytes + p.mmap_bytes + p.gpu_bytes;
}

uint64_t OverlayChart::valueAt(const Series& s, uint64_t offset_ns) {
  const uint64_t t = s.start_ns + offset_ns;
  auto after = std::upper_bound(s.points.begin(), s.points.end(), t,
                                [](uint64_t time, const auto& p) { return time < p.time_ns; });
  return after == s.points.begin() ? 0 : liveBytes(*std::prev(after));
}

QRectF OverlayChart::plotArea() const {
  return QRectF(70, 10, std::max(10, width() - 80), std::max(10, height() - 40));
}

uint64_t OverlayChart::longestOffset() const {
  uint64_t longest = 1;
  for (const Series& s : series_)
    if (!s.points.empty() && s.points.back().time_ns > s.start_ns)
      longest = std::max(longest, s.points.back().time_ns - s.start_ns);
  return longest;
}

uint64_t OverlayChart::highestValue() const {
  uint64_t highest = 1;
  for (const Series& s : series_)
    for (const auto& p : s.points) highest = std::max(highest, liveBytes(p));
  return highest;
}

void OverlayChart::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().base());
  const QRectF area = plotArea();
  painter.setPen(palette().mid().color());
  painter.drawRect(area);
  if (series_.empty()) {
    painter.setPen(palette().text().color());
    painter.drawText(area, Qt::AlignCenter, tr("Choose two traces to compare"));
    return;
  }
  const double span = double(longestOffset());
  const double top = double(highestValue());
  auto x_of = [&](uint64_t offset) { return area.left() + area.width() * double(offset) / span; };
  auto y_of = [&](uint64_t bytes) { return area.bottom() - area.height() * double(bytes) / top; };

  painter.setPen(palette().text().color());
  painter.drawText(QRectF(0, area.top() - 2, 66, 16), Qt::AlignRight, formatBytes(uint64_t(top)));
  painter.drawText(QRectF(0, area.bottom() - 14, 66, 16), Qt::AlignRight, QStringLiteral("0"));
  painter.drawText(QRectF(area.left(), area.bottom() + 4, 200, 16), Qt::AlignLeft,
                   QStringLiteral("0 s"));
  painter.drawText(QRectF(area.right() - 200, area.bottom() + 4, 200, 16), Qt::AlignRight,
                   formatDuration(uint64_t(span)));

  painter.setRenderHint(QPainter::Antialiasing);
  double legend_x = area.left() + 8;
  for (const Series& s : series_) {
    // A step line: live bytes hold until the next point.
    QPainterPath path;
    bool first = true;
    double last_y = y_of(0);
    for (const auto& p : s.points) {
      const double x = x_of(p.time_ns > s.start_ns ? p.time_ns - s.start_ns : 0);
      const double y = y_of(liveBytes(p));
      if (first) {
        path.moveTo(x, y);
        first = false;
      } else {
        path.lineTo(x, last_y);
        path.lineTo(x, y);
      }
      last_y = y;
    }
    painter.setPen(QPen(s.colour, 1.6));
    painter.drawPath(path);
    painter.fillRect(QRectF(legend_x, area.top() + 8, 12, 12), s.colour);
    painter.setPen(palette().text().color());
    const QRectF label(legend_x + 16, area.top() + 5, 400, 18);
    painter.drawText(label, Qt::AlignLeft | Qt::AlignVCenter, s.label);
    legend_x += 24 + painter.fontMetrics().horizontalAdvance(s.label);
  }
}

void OverlayChart::mouseMoveEvent(QMouseEvent* event) {
  const QRectF area = plotArea();
  if (series_.empty() || !area.contains(event->position())) return;
  const uint64_t offset =
      uint64_t((event->position().x() - area.left()) / area.width() * double(longestOffset()));
  QString text = QStringLiteral("+%1").arg(formatDuration(offset));
  for (const Series& s : series_)
    text += QStringLiteral("\n%1: %2").arg(s.label, formatBytes(valueAt(s, offset)));
  QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

}  // namespace memtide::gui
