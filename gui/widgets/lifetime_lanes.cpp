#include "widgets/lifetime_lanes.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

#include "core/format.h"

namespace memtide::gui {

namespace {

constexpr int kLabelWidth = 170;
constexpr int kAxisHeight = 22;
constexpr int kBarHeight = 6;
constexpr int kRowPitch = 8;
constexpr int kLaneGap = 6;
constexpr int kRightMargin = 12;
constexpr int kTopFrames = 6;

QColor colorOf(const std::string& memory) {
  if (memory == "heap") return QColor(0x25, 0x63, 0xeb);
  if (memory == "pool") return QColor(0x7c, 0x3a, 0xed);
  // GPUs: greens, one shade per device.
  const int device = memory.rfind("cuda:", 0) == 0 ? std::atoi(memory.c_str() + 5) : 0;
  return QColor::fromHsv((150 + 25 * device) % 360, 220, 150);
}

QString laneName(const std::string& layer) {
  return layer.empty() ? QObject::tr("(no layer)") : QString::fromStdString(layer);
}

QString frameText(const analysis::ReportFrame& f) {
  QString text = f.function.empty() ? QStringLiteral("%1+0x%2")
                                          .arg(QString::fromStdString(f.module).section('/', -1))
                                          .arg(f.module_offset, 0, 16)
                                    : QString::fromStdString(f.function);
  if (text.size() > 90) text = text.left(87) + QStringLiteral("...");
  if (!f.file.empty())
    text +=
        QStringLiteral("  %1:%2").arg(QString::fromStdString(f.file).section('/', -1)).arg(f.line);
  if (f.inlined) text += QObject::tr(" (inlined)");
  return text;
}

}  // namespace

LifetimeLanes::LifetimeLanes(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setBackgroundRole(QPalette::Base);
  setAutoFillBackground(true);
}

void LifetimeLanes::setLanes(std::shared_ptr<const StepLanes> lanes, uint64_t trace_start_ns) {
  lanes_ = std::move(lanes);
  trace_start_ns_ = trace_start_ns;
  layOut();
  updateGeometry();
  update();
}

// Each lane packs its bars into rows, first fit by start time: a bar takes
// the first row whose last bar ended before it began.
void LifetimeLanes::layOut() {
  bar_lane_.clear();
  bar_row_.clear();
  lane_rows_.clear();
  lane_top_.clear();
  rects_.clear();
  height_ = kAxisHeight;
  if (!lanes_) return;
  const analysis::StepGantt& g = lanes_->gantt;
  std::vector<std::vector<uint64_t>> row_ends(g.layers.size());
  for (const analysis::LifetimeBar& bar : g.bars) {
    const int lane = int(std::find(g.layers.begin(), g.layers.end(), bar.layer) - g.layers.begin());
    std::vector<uint64_t>& ends = row_ends[size_t(lane)];
    const uint64_t end = bar.end_ns ? bar.end_ns : UINT64_MAX;
    int row = 0;
    while (row < int(ends.size()) && ends[size_t(row)] > bar.start_ns) ++row;
    if (row == int(ends.size())) ends.push_back(0);
    ends[size_t(row)] = std::max(end, bar.start_ns + 1);
    bar_lane_.push_back(lane);
    bar_row_.push_back(row);
  }
  for (const auto& ends : row_ends) {
    lane_top_.push_back(height_);
    lane_rows_.push_back(std::max<int>(1, int(ends.size())));
    height_ += lane_rows_.back() * kRowPitch + kLaneGap;
  }
  rects_.resize(g.bars.size());
  resizeEvent(nullptr);
}

double LifetimeLanes::xOf(uint64_t time_ns) const {
  const analysis::StepGantt& g = lanes_->gantt;
  const double width = std::max(1, this->width() - kLabelWidth - kRightMargin);
  const double span = double(std::max<uint64_t>(1, g.end_ns - g.start_ns));
  const double t = double(std::clamp(time_ns, g.start_ns, g.end_ns) - g.start_ns);
  return kLabelWidth + width * t / span;
}

void LifetimeLanes::resizeEvent(QResizeEvent*) {
  if (!lanes_) return;
  const analysis::StepGantt& g = lanes_->gantt;
  for (size_t i = 0; i < g.bars.size(); ++i) {
    const analysis::LifetimeBar& bar = g.bars[i];
    const bool outlives = bar.end_ns == 0 || bar.end_ns > g.end_ns;
    const double x1 = xOf(bar.start_ns), x2 = xOf(outlives ? g.end_ns : bar.end_ns);
    const double y = lane_top_[size_t(bar_lane_[i])] + bar_row_[i] * kRowPitch;
    rects_[i] = QRectF(x1, y, std::max(1.5, x2 - x1), kBarHeight);
  }
}

QRectF LifetimeLanes::barRect(size_t i) const {
  return i < rects_.size() ? rects_[i] : QRectF();
}

std::optional<size_t> LifetimeLanes::barAt(const QPointF& point) const {
  // The last drawn is on top; a bar a pixel wide is hard to hit, so allow one.
  for (size_t i = rects_.size(); i-- > 0;)
    if (rects_[i].adjusted(-1, 0, 1, 0).contains(point)) return i;
  return std::nullopt;
}

QString LifetimeLanes::toolTipFor(size_t i) const {
  if (!lanes_ || i >= lanes_->gantt.bars.size()) return {};
  const analysis::LifetimeBar& bar = lanes_->gantt.bars[i];
  QString text = QStringLiteral("<b>%1</b> of %2<br>")
                     .arg(formatBytes(bar.bytes), QString::fromStdString(bar.memory));
  text += tr("Scope: %1<br>")
              .arg(bar.scope.empty() ? tr("(no scope)")
                                     : QString::fromStdString(bar.scope).toHtmlEscaped());
  text += tr("Allocated at %1, ").arg(formatOffset(bar.start_ns, trace_start_ns_));
  text += bar.end_ns ? tr("lived %1").arg(formatDuration(bar.end_ns - bar.start_ns))
                     : tr("never freed");
  auto stack = lanes_->stacks.find(bar.stack);
  if (stack != lanes_->stacks.end() && !stack->second.empty()) {
    text += QStringLiteral("<br>");
    for (const analysis::ReportFrame& f : stack->second)
      text += QStringLiteral("<br>&nbsp;&nbsp;%1").arg(frameText(f).toHtmlEscaped());
  }
  return text;
}

QSize LifetimeLanes::sizeHint() const {
  return {800, std::max(60, height_ + 4)};
}

void LifetimeLanes::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  if (!lanes_ || lanes_->gantt.step < 0) {
    painter.drawText(rect(), Qt::AlignCenter, tr("No step to show"));
    return;
  }
  const analysis::StepGantt& g = lanes_->gantt;
  const QColor text = palette().color(QPalette::Text);
  // Axis: the step's window, as offsets from the start of the run.
  painter.setPen(text);
  painter.drawText(QRectF(0, 0, kLabelWidth - 6, kAxisHeight), Qt::AlignLeft | Qt::AlignVCenter,
                   tr("Step %1").arg(g.step));
  for (int tick = 0; tick <= 4; ++tick) {
    const uint64_t t = g.start_ns + (g.end_ns - g.start_ns) * uint64_t(tick) / 4;
    const double x = xOf(t);
    painter.drawLine(QPointF(x, kAxisHeight - 4), QPointF(x, height_));
    const QString label = formatOffset(t, trace_start_ns_, (g.end_ns - g.start_ns) / 4);
    const Qt::Alignment align = tick == 0   ? Qt::AlignLeft
                                : tick == 4 ? Qt::AlignRight
                                            : Qt::AlignHCenter;
    painter.drawText(QRectF(x - 80 +
                                (tick == 0   ? 80
                                 : tick == 4 ? -80
                                             : 0),
                            0, 160, kAxisHeight - 4),
                     align | Qt::AlignVCenter, label);
  }
  for (size_t lane = 0; lane < g.layers.size(); ++lane) {
    const int top = lane_top_[lane], h = lane_rows_[lane] * kRowPitch;
    if (lane % 2)
      painter.fillRect(QRect(0, top - kLaneGap / 2, width(), h + kLaneGap),
                       palette().alternateBase());
    painter.setPen(text);
    painter.drawText(
        QRectF(4, top, kLabelWidth - 10, std::max(h, 14)), Qt::AlignLeft | Qt::AlignTop,
        fontMetrics().elidedText(laneName(g.layers[lane]), Qt::ElideMiddle, kLabelWidth - 10));
  }
  painter.setPen(Qt::NoPen);
  for (size_t i = 0; i < g.bars.size(); ++i) {
    const analysis::LifetimeBar& bar = g.bars[i];
    const QColor color = colorOf(bar.memory);
    const bool outlives = bar.end_ns == 0 || bar.end_ns > g.end_ns;
    painter.setBrush(outlives ? QBrush(color, Qt::BDiagPattern) : QBrush(color));
    if (outlives) painter.fillRect(rects_[i], QColor(color.red(), color.green(), color.blue(), 70));
    painter.drawRect(rects_[i]);
  }
}

bool LifetimeLanes::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    if (const auto bar = barAt(help->pos()))
      QToolTip::showText(help->globalPos(), toolTipFor(*bar), this, rects_[*bar].toAlignedRect());
    else
      QToolTip::hideText();
    return true;
  }
  return QWidget::event(event);
}

void LifetimeLanes::mousePressEvent(QMouseEvent* event) {
  if (const auto bar = barAt(event->position()))
    emit barClicked(QString::fromStdString(lanes_->gantt.bars[*bar].scope));
  QWidget::mousePressEvent(event);
}

}  // namespace memtide::gui
