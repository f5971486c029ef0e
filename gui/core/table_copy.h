// "Copy" on any table or tree: the selected rows (or every row when nothing
// is selected) as tab-separated text with a header line, the way a
// spreadsheet pastes it. Ctrl+C and the context menu both do it.
#pragma once

#include <QString>

class QAbstractItemView;

namespace memtide::gui {

// The text Copy puts on the clipboard; tree children indented by two spaces.
QString tableText(const QAbstractItemView* view);
// Adds the Copy action (Ctrl+C and context menu) to `view`.
void installTableCopy(QAbstractItemView* view);

}  // namespace memtide::gui
