#include "core/table_copy.h"

#include <QAbstractItemView>
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QTableView>
#include <QTreeView>

namespace memtide::gui {
namespace {

bool columnHidden(const QAbstractItemView* view, int column) {
  if (auto* tree = qobject_cast<const QTreeView*>(view)) return tree->isColumnHidden(column);
  if (auto* table = qobject_cast<const QTableView*>(view)) return table->isColumnHidden(column);
  return false;
}

void appendRows(const QAbstractItemView* view, const QModelIndex& parent, int depth,
                bool selected_only, QStringList& lines) {
  const QAbstractItemModel* model = view->model();
  const QItemSelectionModel* selection = view->selectionModel();
  for (int row = 0; row < model->rowCount(parent); ++row) {
    const QModelIndex first = model->index(row, 0, parent);
    if (!selected_only || (selection && selection->isRowSelected(row, parent))) {
      QStringList cells;
      for (int column = 0; column < model->columnCount(parent); ++column) {
        if (columnHidden(view, column)) continue;
        QString text = model->index(row, column, parent).data().toString();
        text.replace('\t', ' ').replace('\n', ' ');
        if (column == 0) text.prepend(QString(depth * 2, ' '));
        cells << text;
      }
      lines << cells.join('\t');
    }
    // Tree children: only those a user can see.
    auto* tree = qobject_cast<const QTreeView*>(view);
    if (tree && tree->isExpanded(first)) appendRows(view, first, depth + 1, selected_only, lines);
  }
}

}  // namespace

QString tableText(const QAbstractItemView* view) {
  const QAbstractItemModel* model = view->model();
  if (!model) return {};
  QStringList header;
  for (int column = 0; column < model->columnCount(); ++column)
    if (!columnHidden(view, column)) header << model->headerData(column, Qt::Horizontal).toString();
  QStringList lines{header.join('\t')};
  const bool selected_only = view->selectionModel() && view->selectionModel()->hasSelection();
  appendRows(view, {}, 0, selected_only, lines);
  return lines.join('\n') + '\n';
}

void installTableCopy(QAbstractItemView* view) {
  auto* copy = new QAction(QObject::tr("Copy"), view);
  copy->setShortcut(QKeySequence::Copy);
  copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  QObject::connect(copy, &QAction::triggered, view,
                   [view] { QApplication::clipboard()->setText(tableText(view)); });
  view->addAction(copy);
  view->setContextMenuPolicy(Qt::ActionsContextMenu);
}

}  // namespace memtide::gui
