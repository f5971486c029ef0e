// The pages of the main window, in tab order.
#pragma once

#include <QList>

class QWidget;

namespace memtide::gui {

class Page;
QList<Page*> createPages(QWidget* parent);

}  // namespace memtide::gui
