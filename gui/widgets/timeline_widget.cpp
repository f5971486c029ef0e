#include "widgets/timeline_widget.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "core/format.h"
#include "widgets/timeline_painter.h"

namespace memtide::gui {

namespace {

constexpr double kWheelStep = 1.25;  // zoom per wheel notch (120 units)
constexpr double kKeyPanFraction = 0.1;
constexpr int kClickSlop = 3;  // pixels a press may move and still be a click

}  // namespace

TimelineWidget::TimelineWidget(QWidget* parent) : QWidget(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(false);
  setMinimumHeight(160);
  setAttribute(Qt::WA_OpaquePaintEvent);
}

void TimelineWidget::setLanes(std::vector<TimelineLane> lanes) {
  const uint64_t old_start = axis_.windowStart(), old_end = axis_.windowEnd();
  const bool had_everything = lanes_.empty() || axis_.showsEverything();
  lanes_ = std::move(lanes);
  uint64_t start = UINT64_MAX, end = 0;
  for (const TimelineLane& lane : lanes_)
    if (lane.coarse) {
      start = std::min(start, lane.coarse->start_ns);
      end = std::max(end, lane.coarse->end_ns);
    }
  if (end > start && (start != axis_.extentStart() || end != axis_.extentEnd())) {
    axis_.setExtent(start, end);
    if (!had_everything) axis_.setWindow(old_start, old_end);
  }
  axis_.setWidth(plotWidth());
  update();
}

void TimelineWidget::setFine(int lane, std::shared_ptr<const analysis::MemoryTimeline> fine) {
  if (lane < 0 || lane >= int(lanes_.size())) return;
  lanes_[size_t(lane)].fine = std::move(fine);
  update();
}

const analysis::MemoryTimeline* TimelineWidget::seriesFor(int lane) const {
  const TimelineLane& l = lanes_[size_t(lane)];
  // The fine series wins where it covers the window and is finer there.
  if (l.fine && l.fine->start_ns <= axis_.windowStart() && l.fine->end_ns >= axis_.windowEnd())
    return l.fine.get();
  return l.coarse.get();
}

void TimelineWidget::setWindow(uint64_t start_ns, uint64_t end_ns) {
  axis_.setWindow(start_ns, end_ns);
  windowMoved();
}

void TimelineWidget::setSelection(std::optional<std::pair<uint64_t, uint64_t>> range) {
  selection_ = range;
  update();
}

void TimelineWidget::setFocusTime(std::optional<uint64_t> time_ns) {
  focus_ = time_ns;
  update();
}

void TimelineWidget::windowMoved() {
  update();
  emit windowChanged(axis_.windowStart(), axis_.windowEnd());
}

int TimelineWidget::laneAt(int y) const {
  if (lanes_.empty()) return -1;
  const TimelineLayout layout(rect(), int(lanes_.size()));
  for (int i = 0; i < int(lanes_.size()); ++i)
    if (layout.lane(i).contains(QPoint(plotLeft(), y))) return i;
  return y < layout.lane(0).top() ? 0 : int(lanes_.size()) - 1;
}

void TimelineWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  TimelinePainter(painter, *this, selection_, rubber_band_, focus_).paint();
}

void TimelineWidget::resizeEvent(QResizeEvent*) {
  axis_.setWidth(plotWidth());
}

void TimelineWidget::wheelEvent(QWheelEvent* event) {
  const double notches = event->angleDelta().y() / 120.0;
  if (notches == 0 || lanes_.empty()) return;
  axis_.zoom(std::pow(kWheelStep, notches), event->position().x() - plotLeft());
  windowMoved();
  event->accept();
}

void TimelineWidget::mousePressEvent(QMouseEvent* event) {
  press_pos_ = event->pos();
  last_x_ = event->position().x();
  moved_ = false;
  const bool select = event->button() == Qt::RightButton ||
                      (event->button() == Qt::LeftButton && event->modifiers() & Qt::ShiftModifier);
  drag_ = select ? Drag::kSelect : event->button() == Qt::LeftButton ? Drag::kPan : Drag::kNone;
}

void TimelineWidget::mouseMoveEvent(QMouseEvent* event) {
  if (drag_ == Drag::kNone) return;
  if ((event->pos() - press_pos_).manhattanLength() > kClickSlop) moved_ = true;
  if (!moved_) return;
  if (drag_ == Drag::kPan) {
    axis_.pan(event->position().x() - last_x_);
    last_x_ = event->position().x();
    windowMoved();
  } else {
    const uint64_t a = axis_.xToTime(press_pos_.x() - plotLeft());
    const uint64_t b = axis_.xToTime(event->position().x() - plotLeft());
    rubber_band_ = std::minmax(a, b);
    update();
  }
}

void TimelineWidget::mouseReleaseEvent(QMouseEvent* event) {
  const Drag drag = drag_;
  drag_ = Drag::kNone;
  if (drag == Drag::kNone) return;
  if (!moved_) {
    if (event->button() == Qt::LeftButton && !lanes_.empty())
      emit timeClicked(axis_.xToTime(event->position().x() - plotLeft()), laneAt(event->pos().y()));
    return;
  }
  if (drag == Drag::kSelect) {
    const uint64_t a = axis_.xToTime(press_pos_.x() - plotLeft());
    const uint64_t b = axis_.xToTime(event->position().x() - plotLeft());
    rubber_band_.reset();
    update();
    if (a != b) emit rangeSelected(std::min(a, b), std::max(a, b));
  }
}

void TimelineWidget::keyPressEvent(QKeyEvent* event) {
  const double center = plotWidth() / 2.0;
  switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
      axis_.zoom(2.0, center);
      break;
    case Qt::Key_Minus:
      axis_.zoom(0.5, center);
      break;
    case Qt::Key_Left:
      axis_.pan(plotWidth() * kKeyPanFraction);
      break;
    case Qt::Key_Right:
      axis_.pan(-plotWidth() * kKeyPanFraction);
      break;
    case Qt::Key_Home:
      axis_.showAll();
      break;
    default:
      QWidget::keyPressEvent(event);
      return;
  }
  windowMoved();
}

bool TimelineWidget::event(QEvent* event) {
  if (event->type() != QEvent::ToolTip) return QWidget::event(event);
  auto* help = static_cast<QHelpEvent*>(event);
  const int lane = laneAt(help->pos().y());
  const analysis::MemoryTimeline* series = lane >= 0 ? seriesFor(lane) : nullptr;
  const double x = help->pos().x() - plotLeft();
  if (!series || x < 0 || x >= plotWidth()) {
    QToolTip::hideText();
    return true;
  }
  const uint64_t t = axis_.xToTime(x);
  if (t < series->start_ns || t >= series->end_ns) {
    QToolTip::hideText();
    return true;
  }
  const uint32_t b = series->bucket_of(t);
  QString text = QStringLiteral("<b>%1</b>").arg(formatOffset(t, axis_.extentStart()));
  for (const analysis::TimelineTrack& track : series->tracks) {
    const analysis::TimelineBucket& v = track.buckets[b];
    text += QStringLiteral("<br>%1: %2")
                .arg(QString::fromStdString(track.name).toHtmlEscaped(),
                     formatBytes(uint64_t(std::max<int64_t>(0, v.last))));
    if (v.max != v.last)
      text += tr(" (up to %1)").arg(formatBytes(uint64_t(std::max<int64_t>(0, v.max))));
  }
  QToolTip::showText(help->globalPos(), text, this);
  return true;
}

}  // namespace memtide::gui
