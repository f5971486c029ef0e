#include "widgets/flame_graph.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

#include "models/calltree_model.h"

namespace memtide::gui {

namespace {

// Below this many pixels a frame is not drawn (its parent already shows it).
constexpr double kMinWidth = 0.5;

uint32_t stableHash(const std::string& text) {
  uint32_t h = 2166136261u;  // FNV-1a: the same colours in every run
  for (unsigned char c : text) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

FlameGraph::FlameGraph(QWidget* parent) : QWidget(parent), row_height_(fontMetrics().height() + 4) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setBackgroundRole(QPalette::Base);
  setAutoFillBackground(true);
}

void FlameGraph::setData(std::shared_ptr<const analysis::CallTree> top_down,
                         std::shared_ptr<const FlameLayout> layout,
                         analysis::StackMeasure measure) {
  tree_ = std::move(top_down);
  layout_ = std::move(layout);
  measure_ = measure;
  matches_.clear();
  zoom_ = kNone;
  view_start_ = 0;
  view_width_ = layout_ ? layout_->total : 0;
  updateGeometry();
  setMinimumHeight(sizeHint().height());
  update();
}

void FlameGraph::setMatches(std::vector<bool> matches) {
  matches_ = std::move(matches);
  update();
}

bool FlameGraph::isHighlighted(uint32_t node) const {
  return !matches_.empty() && node < matches_.size() && matches_[node];
}

void FlameGraph::zoomTo(uint32_t node) {
  if (node != kNone && !findRect(node)) node = kNone;
  if (node == zoom_) return;
  zoom_ = node;
  const FlameRect* zoomed = findRect(node);
  view_start_ = zoomed ? zoomed->start : 0;
  view_width_ = zoomed ? zoomed->width : layout_ ? layout_->total : 0;
  update();
  emit zoomChanged(zoom_);
}

QSize FlameGraph::sizeHint() const {
  const int rows = layout_ ? int(layout_->rows.size()) : 0;
  return {400, std::max(1, rows) * row_height_ + 2};
}

const FlameRect* FlameGraph::findRect(uint32_t node) const {
  if (!layout_ || !tree_ || node >= tree_->nodes.size()) return nullptr;
  const uint32_t depth = tree_->nodes[node].depth;
  if (depth >= layout_->rows.size()) return nullptr;
  for (const FlameRect& r : layout_->rows[depth])
    if (r.node == node) return &r;
  return nullptr;
}

QRectF FlameGraph::rectOf(const FlameRect& r, int depth) const {
  const double scale = double(width()) / double(std::max<uint64_t>(1, view_width_));
  const double start = double(int64_t(r.start) - int64_t(view_start_)) * scale;
  const double end = start + double(r.width) * scale;
  const double left = std::max(0.0, start), right = std::min(double(width()), end);
  if (right - left < kMinWidth) return {};
  return QRectF(left, depth * row_height_, right - left, row_height_ - 1);
}

QRectF FlameGraph::nodeRect(uint32_t node) const {
  const FlameRect* r = findRect(node);
  return r ? rectOf(*r, int(tree_->nodes[node].depth)) : QRectF();
}

uint32_t FlameGraph::nodeAt(const QPointF& point) const {
  if (!layout_ || point.y() < 0) return kNone;
  const size_t depth = size_t(point.y() / row_height_);
  if (depth >= layout_->rows.size()) return kNone;
  const std::vector<FlameRect>& row = layout_->rows[depth];
  // The last rect starting at or before the point's position in the measure.
  const double scale = double(std::max<uint64_t>(1, view_width_)) / std::max(1, width());
  const double at = double(view_start_) + point.x() * scale;
  auto it = std::upper_bound(row.begin(), row.end(), at,
                             [](double v, const FlameRect& r) { return v < double(r.start); });
  if (it == row.begin()) return kNone;
  --it;
  const QRectF rect = rectOf(*it, int(depth));
  return rect.contains(point) ? it->node : kNone;
}

QString FlameGraph::describe(uint32_t node) const {
  if (!tree_ || node >= tree_->nodes.size()) return {};
  const analysis::CallTreeNode& n = tree_->nodes[node];
  return frameDescription(n) +
         QStringLiteral("<br><b>%1</b> (%2 of the total)")
             .arg(formatMeasure(measure_, n.inclusive), formatShare(n.inclusive, tree_->total));
}

QColor FlameGraph::colourOf(uint32_t node) const {
  const analysis::CallTreeNode& n = tree_->nodes[node];
  if (!matches_.empty() && !isHighlighted(node)) return QColor(0xdd, 0xdd, 0xdd);
  // Warm hues, as flame graphs are read: the module picks the hue, the
  // function its shade.
  const uint32_t module = stableHash(n.frame.module);
  const uint32_t function = stableHash(n.label);
  const int hue = int(module % 50);
  const int saturation = 150 + int(function % 80);
  const int value = 200 + int((function >> 8) % 50);
  return QColor::fromHsv(hue, saturation, value);
}

void FlameGraph::paintEvent(QPaintEvent* event) {
  QPainter painter(this);
  if (!layout_ || !tree_ || layout_->total == 0) {
    painter.drawText(rect(), Qt::AlignCenter, tr("No allocations to show"));
    return;
  }
  const QRectF dirty = event->rect();
  const QFontMetrics metrics = fontMetrics();
  for (size_t depth = 0; depth < layout_->rows.size(); ++depth) {
    if ((int(depth) + 1) * row_height_ < dirty.top() || int(depth) * row_height_ > dirty.bottom())
      continue;
    for (const FlameRect& r : layout_->rows[depth]) {
      const QRectF box = rectOf(r, int(depth));
      if (box.isEmpty()) continue;
      painter.fillRect(box, colourOf(r.node));
      if (box.width() > 24) {
        const QString label = metrics.elidedText(QString::fromStdString(tree_->nodes[r.node].label),
                                                 Qt::ElideRight, int(box.width()) - 6);
        painter.setPen(Qt::black);
        painter.drawText(box.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft, label);
      }
    }
  }
}

bool FlameGraph::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const uint32_t node = nodeAt(help->pos());
    if (node == kNone)
      QToolTip::hideText();
    else
      QToolTip::showText(help->globalPos(), describe(node), this);
    return true;
  }
  return QWidget::event(event);
}

void FlameGraph::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton && !after_double_click_) {
    const uint32_t node = nodeAt(event->position());
    if (node != kNone) zoomTo(node);
  }
  QWidget::mousePressEvent(event);
}

void FlameGraph::mouseDoubleClickEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) {
    resetZoom();
    // The press that may follow in the same gesture would zoom in again.
    after_double_click_ = true;
  }
  QWidget::mouseDoubleClickEvent(event);
}

void FlameGraph::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) after_double_click_ = false;
  QWidget::mouseReleaseEvent(event);
}

void FlameGraph::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Escape && zoom_ != kNone) {
    resetZoom();
    return;
  }
  QWidget::keyPressEvent(event);
}

}  // namespace memtide::gui
