// Paints a FlameLayout: a frame per rectangle, coloured by its module (hue)
// and function (shade) so a function keeps its colour across measures and
// traces. Hover shows the frame (function, file:line, module, value, share);
// a click zooms into a frame (its callers stay above it, full width); a
// double click or Escape zooms out. Frames matching the search keep their
// colour and the others fade.
#pragma once

#include <QWidget>
#include <memory>
#include <vector>

#include "widgets/flame_graph_layout.h"

namespace memtide::gui {

class FlameGraph : public QWidget {
  Q_OBJECT

 public:
  static constexpr uint32_t kNone = analysis::CallTreeNode::kNoParent;

  explicit FlameGraph(QWidget* parent = nullptr);

  void setData(std::shared_ptr<const analysis::CallTree> top_down,
               std::shared_ptr<const FlameLayout> layout, analysis::StackMeasure measure);
  // One flag per node of the tree, true where the search matched; empty
  // when there is no search.
  void setMatches(std::vector<bool> matches);
  bool isHighlighted(uint32_t node) const;

  void zoomTo(uint32_t node);
  void resetZoom() { zoomTo(kNone); }
  uint32_t zoomNode() const { return zoom_; }

  // The frame under a point, or kNone; where a frame is drawn now (empty
  // when it is out of view or too thin to see).
  uint32_t nodeAt(const QPointF& point) const;
  QRectF nodeRect(uint32_t node) const;
  // The tooltip's text for a node.
  QString describe(uint32_t node) const;

  QSize sizeHint() const override;

 signals:
  void zoomChanged(uint32_t node);

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  QRectF rectOf(const FlameRect& r, int depth) const;
  const FlameRect* findRect(uint32_t node) const;
  QColor colourOf(uint32_t node) const;

  std::shared_ptr<const analysis::CallTree> tree_;
  std::shared_ptr<const FlameLayout> layout_;
  analysis::StackMeasure measure_ = analysis::StackMeasure::kAllocatedBytes;
  std::vector<bool> matches_;
  uint32_t zoom_ = kNone;
  // The part of the total in view: the zoomed frame's span, or everything.
  uint64_t view_start_ = 0, view_width_ = 0;
  int row_height_;
  bool after_double_click_ = false;
};

}  // namespace memtide::gui
