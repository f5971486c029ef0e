#include "models/calltree_model.h"

#include <QFileInfo>

#include "core/format.h"

namespace memtide::gui {

QString formatMeasure(analysis::StackMeasure measure, uint64_t value) {
  return analysis::is_byte_measure(measure) ? formatBytes(value) : formatCount(value);
}

QString formatShare(uint64_t value, uint64_t total) {
  if (total == 0) return QStringLiteral("-");
  return QStringLiteral("%1 %").arg(100.0 * double(value) / double(total), 0, 'f', 1);
}

QString frameLocation(const analysis::ReportFrame& frame) {
  if (frame.file.empty()) return {};
  const QString name = QFileInfo(QString::fromStdString(frame.file)).fileName();
  return frame.line > 0 ? QStringLiteral("%1:%2").arg(name).arg(frame.line) : name;
}

QString frameDescription(const analysis::CallTreeNode& node) {
  QString text = QString::fromStdString(node.label).toHtmlEscaped();
  if (node.frame.inlined) text += QObject::tr(" <i>(inlined)</i>");
  if (!node.frame.file.empty())
    text += QStringLiteral("<br>%1").arg(
        (QString::fromStdString(node.frame.file) +
         (node.frame.line > 0 ? QStringLiteral(":%1").arg(node.frame.line) : QString()))
            .toHtmlEscaped());
  if (!node.frame.module.empty() && node.frame.module != "?")
    text += QStringLiteral("<br>%1").arg(QString::fromStdString(node.frame.module).toHtmlEscaped());
  return text;
}

CallTreeModel::CallTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void CallTreeModel::setTree(std::shared_ptr<const analysis::CallTree> tree,
                            analysis::StackMeasure measure) {
  beginResetModel();
  tree_ = std::move(tree);
  measure_ = measure;
  endResetModel();
}

QModelIndex CallTreeModel::indexOfNode(uint32_t id) const {
  if (!tree_ || id >= tree_->nodes.size()) return {};
  return createIndex(int(tree_->nodes[id].row), 0, quintptr(id));
}

QModelIndex CallTreeModel::index(int row, int column, const QModelIndex& parent) const {
  if (!hasIndex(row, column, parent)) return {};
  const std::vector<uint32_t>& rows = parent.isValid() ? node(parent).children : tree_->roots;
  return createIndex(row, column, quintptr(rows[size_t(row)]));
}

QModelIndex CallTreeModel::parent(const QModelIndex& child) const {
  if (!child.isValid()) return {};
  const uint32_t parent = node(child).parent;
  if (parent == analysis::CallTreeNode::kNoParent) return {};
  return createIndex(int(tree_->nodes[parent].row), 0, quintptr(parent));
}

int CallTreeModel::rowCount(const QModelIndex& parent) const {
  if (!tree_) return 0;
  if (!parent.isValid()) return int(tree_->roots.size());
  if (parent.column() != 0) return 0;
  return int(node(parent).children.size());
}

int CallTreeModel::columnCount(const QModelIndex&) const {
  return kColumns;
}

QVariant CallTreeModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const analysis::CallTreeNode& n = node(index);
  const int column = index.column();
  switch (role) {
    case Qt::DisplayRole:
      switch (column) {
        case kFunction:
          return QString::fromStdString(n.label) + (n.frame.inlined ? tr(" (inlined)") : QString());
        case kOwn:
          return formatMeasure(measure_, n.self);
        case kInclusive:
          return formatMeasure(measure_, n.inclusive);
        case kPercent:
          return formatShare(n.inclusive, tree_->total);
        case kLocation:
          return frameLocation(n.frame);
        case kModule:
          return n.frame.module == "?"
                     ? QString()
                     : QFileInfo(QString::fromStdString(n.frame.module)).fileName();
      }
      return {};
    case kSortRole:
      switch (column) {
        case kOwn:
          return qulonglong(n.self);
        case kInclusive:
        case kPercent:
          return qulonglong(n.inclusive);
        default:
          return data(index, Qt::DisplayRole);
      }
    case Qt::ToolTipRole:
      return frameDescription(n) +
             QStringLiteral("<br>%1 (%2)")
                 .arg(formatMeasure(measure_, n.inclusive), formatShare(n.inclusive, tree_->total));
    case Qt::TextAlignmentRole:
      if (column == kOwn || column == kInclusive || column == kPercent)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
      return {};
    case kNodeRole:
      return uint(index.internalId());
    default:
      return {};
  }
}

QVariant CallTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::ToolTipRole && section == kOwn)
    return tr(
        "The stacks that end at this frame: top-down, allocated by the function itself; "
        "bottom-up, this caller is the outermost frame");
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case kFunction:
      return tr("Function");
    case kOwn:
      return tr("Own");
    case kInclusive:
      return tr("Inclusive");
    case kPercent:
      return tr("Inclusive %");
    case kLocation:
      return tr("File:line");
    case kModule:
      return tr("Module");
  }
  return {};
}

}  // namespace memtide::gui
