#include "widgets/extent_map.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

#include "core/format.h"

namespace memtide::gui {

namespace {

constexpr int kMargin = 4, kRowHeight = 14, kRowGap = 3;
// Rows never get fewer bytes than this many per pixel, so a tiny extent is
// not stretched into one giant block.
constexpr uint64_t kMinBytesPerPixel = 1;

QString hexAddress(uint64_t address) {
  return QStringLiteral("0x%1").arg(address, 0, 16);
}

}  // namespace

const QColor ExtentMap::kPinningColour(0xd0, 0x10, 0x10);

ExtentMap::ExtentMap(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setObjectName(QStringLiteral("extentMap"));
}

void ExtentMap::setExtent(const analysis::Extent* extent, uint64_t trace_start_ns) {
  extent_ = extent;
  trace_start_ = trace_start_ns;
  span_ = extent ? extent->end - extent->start : 0;
  layoutRows();
  update();
}

int ExtentMap::blockCount() const {
  return extent_ ? int(extent_->blocks.size()) : 0;
}

int ExtentMap::pinningCount() const {
  if (!extent_) return 0;
  return int(std::count_if(extent_->blocks.begin(), extent_->blocks.end(),
                           [](const analysis::ExtentBlock& b) { return b.pinning_rank >= 0; }));
}

QColor ExtentMap::scopeColour(const std::string& scope_path) {
  if (scope_path.empty()) return QColor(0x8a, 0xa0, 0xb8);
  const size_t h = std::hash<std::string>{}(scope_path);
  return QColor::fromHsv(int(h % 360), 110 + int((h >> 12) % 60), 215);
}

void ExtentMap::resizeEvent(QResizeEvent*) {
  layoutRows();
}

// As many rows as fit, each the same number of bytes.
void ExtentMap::layoutRows() {
  const int width = std::max(1, this->width() - 2 * kMargin);
  const int fit = std::max(1, (height() - 2 * kMargin + kRowGap) / (kRowHeight + kRowGap));
  const uint64_t min_row = kMinBytesPerPixel * uint64_t(width);
  rows_ = 1;
  bytes_per_row_ = std::max<uint64_t>(1, span_);
  if (span_ > min_row) {
    rows_ = int(std::min<uint64_t>(uint64_t(fit), (span_ + min_row - 1) / min_row));
    bytes_per_row_ = (span_ + uint64_t(rows_) - 1) / uint64_t(rows_);
  }
}

QPointF ExtentMap::pointOfOffset(uint64_t offset) const {
  const int width = std::max(1, this->width() - 2 * kMargin);
  const uint64_t row = offset / bytes_per_row_;
  const double x = kMargin + double(offset % bytes_per_row_) / double(bytes_per_row_) * width;
  return QPointF(x, kMargin + double(row) * (kRowHeight + kRowGap));
}

std::optional<uint64_t> ExtentMap::offsetAt(QPoint point) const {
  if (!extent_) return std::nullopt;
  const int width = std::max(1, this->width() - 2 * kMargin);
  const int y = point.y() - kMargin, x = point.x() - kMargin;
  if (y < 0 || x < 0 || x >= width) return std::nullopt;
  const int row = y / (kRowHeight + kRowGap);
  if (row >= rows_ || y % (kRowHeight + kRowGap) >= kRowHeight) return std::nullopt;
  // The middle of the pixel's byte range.
  const uint64_t offset =
      uint64_t(row) * bytes_per_row_ + uint64_t((double(x) + 0.5) / width * double(bytes_per_row_));
  if (offset >= span_) return std::nullopt;
  return offset;
}

void ExtentMap::paintRange(QPainter& p, uint64_t from, uint64_t to, const QBrush& brush,
                           QRect* first) const {
  const int width = std::max(1, this->width() - 2 * kMargin);
  bool first_piece = true;
  while (from < to) {
    const uint64_t row_end = (from / bytes_per_row_ + 1) * bytes_per_row_;
    const uint64_t piece_end = std::min(to, row_end);
    const QPointF a = pointOfOffset(from);
    const double w =
        std::max(1.0, double(piece_end - from) / double(bytes_per_row_) * double(width));
    const QRect r(int(a.x()), int(a.y()), std::max(1, int(a.x() + w + 0.5) - int(a.x())),
                  kRowHeight);
    p.fillRect(r, brush);
    if (first && first_piece) *first = r;
    first_piece = false;
    from = piece_end;
  }
}

void ExtentMap::outlineRange(QPainter& p, uint64_t from, uint64_t to) const {
  const int width = std::max(1, this->width() - 2 * kMargin);
  while (from < to) {
    const uint64_t row_end = (from / bytes_per_row_ + 1) * bytes_per_row_;
    const uint64_t piece_end = std::min(to, row_end);
    const QPointF a = pointOfOffset(from);
    const double w =
        std::max(2.0, double(piece_end - from) / double(bytes_per_row_) * double(width));
    p.drawRect(QRectF(a.x() + 0.5, a.y() + 0.5, w - 1, kRowHeight - 1));
    from = piece_end;
  }
}

QRect ExtentMap::blockRect(int index) const {
  if (!extent_ || index < 0 || index >= blockCount()) return {};
  const analysis::ExtentBlock& b = extent_->blocks[size_t(index)];
  const int width = std::max(1, this->width() - 2 * kMargin);
  const uint64_t from = b.address - extent_->start;
  const uint64_t row_end = (from / bytes_per_row_ + 1) * bytes_per_row_;
  const uint64_t to = std::min(from + b.footprint, row_end);
  const QPointF a = pointOfOffset(from);
  const double w = std::max(1.0, double(to - from) / double(bytes_per_row_) * double(width));
  return QRect(int(a.x()), int(a.y()), std::max(1, int(a.x() + w + 0.5) - int(a.x())), kRowHeight);
}

void ExtentMap::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  if (!extent_ || span_ == 0) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter, extent_ ? tr("Empty extent") : tr("No extent chosen"));
    return;
  }
  // The extent's bytes: holes unless a block covers them.
  paintRange(p, 0, span_, palette().base());
  const uint64_t start = extent_->start;
  for (const analysis::ExtentBlock& b : extent_->blocks)
    paintRange(p, b.address - start, b.address - start + b.footprint, scopeColour(b.scope_path));
  // Pinning blocks last, so no neighbour drawn over a one-pixel block hides
  // them: the holes they split shaded, the block outlined.
  const QBrush shade(
      QColor(kPinningColour.red(), kPinningColour.green(), kPinningColour.blue(), 40),
      Qt::SolidPattern);
  for (const analysis::ExtentBlock& b : extent_->blocks) {
    if (b.pinning_rank < 0) continue;
    const uint64_t at = b.address - start;
    paintRange(p, at - b.hole_before, at, shade);
    paintRange(p, at + b.footprint, at + b.footprint + b.hole_after, shade);
  }
  p.setPen(QPen(kPinningColour, 2));
  for (const analysis::ExtentBlock& b : extent_->blocks)
    if (b.pinning_rank >= 0) outlineRange(p, b.address - start, b.address - start + b.footprint);
}

int ExtentMap::blockAt(QPoint point) const {
  const std::optional<uint64_t> offset = offsetAt(point);
  if (!offset) return -1;
  const uint64_t address = extent_->start + *offset;
  const auto& blocks = extent_->blocks;
  auto it =
      std::upper_bound(blocks.begin(), blocks.end(), address,
                       [](uint64_t a, const analysis::ExtentBlock& b) { return a < b.address; });
  if (it == blocks.begin()) return -1;
  --it;
  // A block narrower than a pixel is still drawn a pixel wide: it is what
  // the pointer is on when no byte of another block is.
  const uint64_t pixel = std::max<uint64_t>(1, bytes_per_row_ / uint64_t(std::max(1, width())));
  if (address < it->address + std::max(it->footprint, pixel)) return int(it - blocks.begin());
  return -1;
}

QString ExtentMap::describeAt(QPoint point) const {
  const std::optional<uint64_t> offset = offsetAt(point);
  if (!offset) return {};
  const int index = blockAt(point);
  if (index >= 0) {
    const analysis::ExtentBlock& b = extent_->blocks[size_t(index)];
    QString text = tr("%1: %2 (footprint %3)")
                       .arg(hexAddress(b.address), formatBytes(b.size), formatBytes(b.footprint));
    text += tr("\nscope: %1")
                .arg(b.scope_path.empty() ? tr("(none)") : QString::fromStdString(b.scope_path));
    text += tr("\nallocated at %1").arg(formatOffset(b.alloc_time_ns, trace_start_));
    if (b.top_frame) {
      const analysis::ReportFrame& f = *b.top_frame;
      QString frame = f.function.empty() ? QStringLiteral("%1+0x%2")
                                               .arg(QString::fromStdString(f.module))
                                               .arg(f.module_offset, 0, 16)
                                         : QString::fromStdString(f.function);
      if (!f.file.empty())
        frame += QStringLiteral(" (%1:%2)").arg(QString::fromStdString(f.file)).arg(f.line);
      text += tr("\nin %1").arg(frame);
    }
    text += tr("\nholes beside it: %1 before, %2 after")
                .arg(formatBytes(b.hole_before), formatBytes(b.hole_after));
    if (b.pinning_rank >= 0)
      text += tr("\npinning #%1: freeing it leaves one hole of %2")
                  .arg(b.pinning_rank + 1)
                  .arg(formatBytes(b.merged_hole()));
    return text;
  }
  // A hole: from the end of the block before to the next block (or the edge).
  const uint64_t address = extent_->start + *offset;
  uint64_t from = extent_->start, to = extent_->end;
  for (const analysis::ExtentBlock& b : extent_->blocks) {
    if (b.address + b.footprint <= address) from = std::max(from, b.address + b.footprint);
    if (b.address > address) {
      to = b.address;
      break;
    }
  }
  return tr("hole %1 – %2: %3").arg(hexAddress(from), hexAddress(to), formatBytes(to - from));
}

void ExtentMap::mouseMoveEvent(QMouseEvent* event) {
  const QString text = describeAt(event->position().toPoint());
  if (text.isEmpty())
    QToolTip::hideText();
  else
    QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void ExtentMap::mousePressEvent(QMouseEvent* event) {
  const int index = blockAt(event->position().toPoint());
  if (event->button() == Qt::LeftButton && index >= 0) emit blockClicked(index);
}

}  // namespace memtide::gui
