#include "core/view_export.h"

#include <QFileInfo>
#include <QPainter>
#include <QPixmap>
#include <QSvgGenerator>
#include <QWidget>

namespace memtide::gui {

QString exportWidget(QWidget* widget, const QString& path) {
  if (!widget) return QStringLiteral("nothing to export");
  if (QFileInfo(path).suffix().compare("svg", Qt::CaseInsensitive) == 0) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(widget->size());
    svg.setViewBox(widget->rect());
    svg.setTitle(widget->windowTitle());
    svg.setDescription(QStringLiteral("memtide-gui view"));
    QPainter painter;
    if (!painter.begin(&svg)) return QStringLiteral("cannot write %1").arg(path);
    widget->render(&painter);
    painter.end();
    return QFileInfo(path).size() > 0 ? QString() : QStringLiteral("cannot write %1").arg(path);
  }
  const QPixmap pixels = widget->grab();
  if (!pixels.save(path, "PNG")) return QStringLiteral("cannot write %1").arg(path);
  return {};
}

}  // namespace memtide::gui
