// The map of one extent at one moment: its address range laid out in rows,
// left to right and top to bottom like text, each live block a rectangle
// coloured by its scope, the holes left empty, and the blocks that pin the
// most free space outlined (and the holes they split shaded). Hovering says
// what is under the pointer: a block's address, size, scope and innermost
// frame, or a hole's extent. Addresses map to points in one place
// (pointOfOffset / offsetAt).
#pragma once

#include <QColor>
#include <QString>
#include <QWidget>
#include <cstdint>
#include <optional>

#include "memtide/analysis/fragmentation.h"

namespace memtide::gui {

class ExtentMap : public QWidget {
  Q_OBJECT

 public:
  static const QColor kPinningColour;  // the outline of a pinning block

  explicit ExtentMap(QWidget* parent = nullptr);

  // The extent to draw (null for none); it must outlive the map's use of it.
  // `trace_start_ns` turns allocation times into offsets.
  void setExtent(const analysis::Extent* extent, uint64_t trace_start_ns);
  const analysis::Extent* extent() const { return extent_; }

  int blockCount() const;
  int pinningCount() const;  // blocks drawn as pinning (pinning_rank >= 0)
  // The block drawn under `point`, or -1 (a hole, or off the extent).
  int blockAt(QPoint point) const;
  // The first rectangle drawn for block `index`.
  QRect blockRect(int index) const;
  // What the tooltip says at `point` (empty off the extent).
  QString describeAt(QPoint point) const;
  // A scope's colour (the unscoped blocks share one).
  static QColor scopeColour(const std::string& scope_path);

  uint64_t bytesPerRow() const { return bytes_per_row_; }

  QSize sizeHint() const override { return {560, 300}; }
  QSize minimumSizeHint() const override { return {160, 60}; }

 signals:
  void blockClicked(int index);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  void layoutRows();
  // The byte offset into the extent at `point`, if the point is on a row.
  std::optional<uint64_t> offsetAt(QPoint point) const;
  QPointF pointOfOffset(uint64_t offset) const;  // the left edge of that byte, row top
  // Fills [from, to) (offsets) row by row with `brush`, each piece at least a pixel wide.
  void paintRange(QPainter& p, uint64_t from, uint64_t to, const QBrush& brush,
                  QRect* first = nullptr) const;
  void outlineRange(QPainter& p, uint64_t from, uint64_t to) const;

  const analysis::Extent* extent_ = nullptr;
  uint64_t trace_start_ = 0;
  uint64_t span_ = 0;
  uint64_t bytes_per_row_ = 1;
  int rows_ = 1;
};

}  // namespace memtide::gui
