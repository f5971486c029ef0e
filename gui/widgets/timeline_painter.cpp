#include "widgets/timeline_painter.h"

#include <QPainterPath>
#include <algorithm>
#include <cmath>

#include "core/format.h"
#include "widgets/timeline_columns.h"
#include "widgets/timeline_widget.h"

namespace memtide::gui {

namespace {

// 1, 2, 5 x 10^n: the tick step nearest above `raw`.
double niceStep(double raw) {
  if (raw <= 0) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * magnitude) return m * magnitude;
  return 10 * magnitude;
}

// A power of two at or above `raw`: byte scales read 4 MiB, 8 MiB, ...
double bytesStep(double raw) {
  return raw <= 1 ? 1 : std::exp2(std::ceil(std::log2(raw)));
}

QColor scopeColor(int64_t id) {
  if (id < 0) return QColor(190, 190, 190);
  return QColor::fromHsv(int((id * 67) % 360), 70, 235);
}

}  // namespace

TimelineLayout::TimelineLayout(const QRect& widget, int lanes)
    : widget_(widget),
      lanes_(std::max(1, lanes)),
      lane_height_((widget.height() - kAxisHeight) / std::max(1, lanes)) {}

QRect TimelineLayout::lane(int i) const {
  return {widget_.left(), widget_.top() + i * lane_height_, widget_.width(), lane_height_};
}

QRect TimelineLayout::chart(int i) const {
  const QRect l = lane(i);
  const int height = std::max(10, l.height() - kTitleHeight - kBands * kBandHeight - 4);
  return {l.left(), l.top() + kTitleHeight, l.width(), height};
}

QRect TimelineLayout::band(int i, int b) const {
  const QRect c = chart(i);
  return {c.left(), c.bottom() + 2 + b * kBandHeight, c.width(), kBandHeight - 1};
}

QRect TimelineLayout::axis() const {
  return {widget_.left(), widget_.top() + lanes_ * lane_height_, widget_.width(), kAxisHeight};
}

QColor trackColor(const analysis::TimelineTrack& track, int index) {
  using analysis::TrackKind;
  switch (track.kind) {
    case TrackKind::kHeap:
      return QColor(66, 133, 244);
    case TrackKind::kMmap:
      return QColor(251, 188, 5);
    case TrackKind::kGpu:
      return QColor::fromHsv((120 + 25 * index) % 360, 150, 200);
    case TrackKind::kPoolReserve:
      return QColor::fromHsv((280 + 40 * int(track.pool)) % 360, 200, 150);
    case TrackKind::kPoolUsed:
      return QColor::fromHsv((280 + 40 * int(track.pool)) % 360, 120, 220);
    case TrackKind::kRss:
      return QColor(219, 68, 55);
    case TrackKind::kGpuDriver:
      return QColor(20, 120, 40);
  }
  return Qt::black;
}

void TimelinePainter::paint() {
  p_.fillRect(w_.rect(), w_.palette().base());
  const int lanes = int(w_.lanes().size());
  const TimelineLayout layout(w_.rect(), lanes);
  if (lanes == 0) {
    p_.setPen(w_.palette().text().color());
    p_.drawText(w_.rect(), Qt::AlignCenter, QObject::tr("No trace open"));
    return;
  }
  for (int i = 0; i < lanes; ++i) paintLane(i, layout);
  paintOverlays(layout);
  paintAxis(layout);
}

void TimelinePainter::paintLane(int lane, const TimelineLayout& layout) {
  const TimelineLane& l = w_.lanes()[size_t(lane)];
  const QRect chart = layout.chart(lane);
  const int left = w_.plotLeft();
  if (l.current && w_.lanes().size() > 1) p_.fillRect(layout.lane(lane), QColor(255, 250, 225));
  p_.setPen(w_.palette().text().color());
  QFont bold = p_.font();
  bold.setBold(l.current);
  p_.setFont(bold);
  const int title_width = left + chart.width() / 4 - 12;
  p_.drawText(QRect(4, layout.lane(lane).top(), title_width, TimelineLayout::kTitleHeight),
              Qt::AlignVCenter | Qt::AlignLeft,
              p_.fontMetrics().elidedText(l.title, Qt::ElideMiddle, title_width));
  bold.setBold(false);
  p_.setFont(bold);
  const analysis::MemoryTimeline* series = w_.seriesFor(lane);
  if (!series) {
    p_.drawText(chart, Qt::AlignCenter, QObject::tr("Computing the timeline…"));
    return;
  }
  const TimelineColumns columns = foldColumns(*series, w_.axis());
  const double top = double(std::max<int64_t>(1, std::max(columns.stacked_top, columns.line_top)));
  const double scale = (chart.height() - 2) / (top * 1.05);
  auto y = [&](int64_t v) { return chart.bottom() - v * scale; };

  // Legend, right of the title.
  int legend_x = left + chart.width() / 4;
  for (size_t t = 0; t < series->tracks.size(); ++t) {
    const QString name = QString::fromStdString(series->tracks[t].name);
    const int text = p_.fontMetrics().horizontalAdvance(name);
    if (legend_x + text + 14 > chart.right()) break;
    p_.fillRect(legend_x, layout.lane(lane).top() + 4, 9, 9, trackColor(series->tracks[t], int(t)));
    p_.drawText(legend_x + 12, layout.lane(lane).top() + 13, name);
    legend_x += text + 22;
  }

  // Stacked areas: per column, each track's highest value on the ones before.
  std::vector<double> base(size_t(columns.count), 0.0);
  for (size_t t = 0; t < series->tracks.size(); ++t) {
    if (!series->tracks[t].stacked) continue;
    const QColor color = trackColor(series->tracks[t], int(t));
    for (int c = 0; c < columns.count; ++c) {
      const TimelineColumn& column = columns.tracks[t][size_t(c)];
      if (!column.valid || column.max == 0) continue;
      const double lo = y(int64_t(base[size_t(c)]));
      base[size_t(c)] += double(column.max);
      const double hi = y(int64_t(base[size_t(c)]));
      p_.fillRect(QRectF(left + c, hi, 1, std::max(1.0, lo - hi)), color);
    }
  }
  // Lines: the highest value per column, with the column's range as a tick.
  p_.setRenderHint(QPainter::Antialiasing, true);
  for (size_t t = 0; t < series->tracks.size(); ++t) {
    if (series->tracks[t].stacked) continue;
    QPen pen(trackColor(series->tracks[t], int(t)), 1.5);
    if (series->tracks[t].kind == analysis::TrackKind::kPoolReserve) pen.setStyle(Qt::DashLine);
    p_.setPen(pen);
    QPainterPath path;
    bool open = false;
    for (int c = 0; c < columns.count; ++c) {
      const TimelineColumn& column = columns.tracks[t][size_t(c)];
      if (!column.valid) {
        open = false;
        continue;
      }
      const QPointF point(left + c + 0.5, y(column.max));
      if (open)
        path.lineTo(point);
      else
        path.moveTo(point);
      open = true;
    }
    p_.drawPath(path);
  }
  p_.setRenderHint(QPainter::Antialiasing, false);

  // Vertical scale.
  p_.setPen(w_.palette().text().color());
  p_.drawLine(left - 1, chart.top(), left - 1, chart.bottom());
  const double step = bytesStep(top / 4);
  for (double v = 0; v <= top; v += step) {
    const int yy = int(y(int64_t(v)));
    p_.drawLine(left - 4, yy, left - 1, yy);
    p_.drawText(QRect(0, yy - 7, left - 6, 14), Qt::AlignRight | Qt::AlignVCenter,
                formatBytes(uint64_t(v)));
  }

  // Bands: steps, then the main thread's scopes at depth 1 and 2.
  const std::vector<analysis::TimelineInterval>* bands[3] = {
      &series->steps, series->scopes.size() > 0 ? &series->scopes[0] : nullptr,
      series->scopes.size() > 1 ? &series->scopes[1] : nullptr};
  for (int b = 0; b < 3; ++b) {
    if (!bands[b]) continue;
    const QRect band = layout.band(lane, b);
    for (const analysis::TimelineInterval& interval : *bands[b]) {
      const double x0 = std::max(double(left), w_.xOf(interval.start_ns));
      const double x1 = std::min(double(left + w_.plotWidth()), w_.xOf(interval.end_ns));
      if (x1 < left || x0 > left + w_.plotWidth()) continue;
      const QColor color = b == 0
                               ? (interval.id % 2 ? QColor(215, 225, 240) : QColor(235, 240, 248))
                               : scopeColor(interval.id);
      const QRectF box(x0, band.top(), std::max(1.0, x1 - x0), band.height());
      p_.fillRect(box, color);
      const QString label = interval.count > 1 ? QStringLiteral("%1×").arg(interval.count)
                                               : QString::fromStdString(interval.label);
      if (box.width() > p_.fontMetrics().horizontalAdvance(label) + 4) {
        p_.setPen(Qt::black);
        p_.drawText(box, Qt::AlignCenter, label);
      }
    }
  }
}

void TimelinePainter::paintOverlays(const TimelineLayout& layout) {
  const QRect all(w_.plotLeft(), 0, w_.plotWidth(), layout.axis().top());
  auto shade = [&](const std::pair<uint64_t, uint64_t>& range, QColor color) {
    const double x0 = std::max(double(all.left()), w_.xOf(range.first));
    const double x1 = std::min(double(all.right()), w_.xOf(range.second));
    if (x1 > x0) p_.fillRect(QRectF(x0, all.top(), x1 - x0, all.height()), color);
  };
  if (selection_) shade(*selection_, QColor(30, 100, 220, 40));
  if (rubber_) shade(*rubber_, QColor(30, 100, 220, 70));
  if (focus_) {
    const double x = w_.xOf(*focus_);
    if (x >= all.left() && x <= all.right()) {
      p_.setPen(QPen(QColor(200, 0, 0), 1));
      p_.drawLine(QPointF(x, all.top()), QPointF(x, all.bottom()));
    }
  }
}

void TimelinePainter::paintAxis(const TimelineLayout& layout) {
  const QRect axis = layout.axis();
  const TimelineAxis& a = w_.axis();
  p_.setPen(w_.palette().text().color());
  p_.drawLine(w_.plotLeft(), axis.top(), w_.plotLeft() + w_.plotWidth(), axis.top());
  // Ticks about every 120 px, labelled from the start of the earliest run.
  const double step = niceStep(a.nsPerPixel() * 120);
  const double first = std::ceil((a.windowStart() - a.extentStart()) / step) * step;
  for (double offset = first; a.extentStart() + offset < a.windowEnd(); offset += step) {
    const uint64_t t = a.extentStart() + uint64_t(offset);
    const int x = int(w_.xOf(t));
    p_.drawLine(x, axis.top(), x, axis.top() + 4);
    p_.drawText(QRect(x - 60, axis.top() + 4, 120, axis.height() - 4), Qt::AlignCenter,
                formatOffset(t, a.extentStart(), uint64_t(step)));
  }
}

}  // namespace memtide::gui
