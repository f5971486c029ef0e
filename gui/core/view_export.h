// Export the current view: any widget rendered into a PNG (pixels as shown)
// or an SVG (vector drawing, through QSvgGenerator).
#pragma once

#include <QString>

class QWidget;

namespace memtide::gui {

// Writes `widget` to `path`; the format follows the suffix (.svg, else PNG).
// Returns an error message, empty on success.
QString exportWidget(QWidget* widget, const QString& path);

}  // namespace memtide::gui
