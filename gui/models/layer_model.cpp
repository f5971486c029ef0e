#include "models/layer_model.h"

#include <unordered_map>

#include "core/format.h"

namespace memtide::gui {

LayerModel::LayerModel(QObject* parent) : QAbstractItemModel(parent) {}

void LayerModel::setLayers(std::shared_ptr<const analysis::ScopeLifetimes> layers) {
  beginResetModel();
  layers_ = std::move(layers);
  rebuild();
  endResetModel();
}

void LayerModel::setView(View view) {
  if (view == view_) return;
  beginResetModel();
  view_ = view;
  rebuild();
  endResetModel();
}

void LayerModel::setMeasures(Measures measures) {
  if (measures == measures_) return;
  // Every cell of every level changes; a reset is the honest signal.
  beginResetModel();
  measures_ = measures;
  endResetModel();
}

void LayerModel::rebuild() {
  nodes_.clear();
  roots_.clear();
  if (!layers_) return;
  std::unordered_map<uint32_t, int> node_of_id;
  for (size_t i = 0; i < layers_->scopes.size(); ++i) {
    const analysis::ScopeRow& row = layers_->scopes[i];
    Node node;
    node.scope = int(i);
    // Rows come parent first; a parent without blocks of its own subtree is
    // never listed, so its children go to the top.
    auto parent = node_of_id.find(row.parent);
    if (view_ == View::kTree && row.parent != 0 && parent != node_of_id.end())
      node.parent = parent->second;
    const int id = int(nodes_.size());
    std::vector<int>& siblings = node.parent < 0 ? roots_ : nodes_[size_t(node.parent)].children;
    node.row = int(siblings.size());
    siblings.push_back(id);
    nodes_.push_back(std::move(node));
    node_of_id[row.id] = id;
  }
  if (layers_->unscoped.allocations > 0) {
    Node unscoped;
    unscoped.row = int(roots_.size());
    roots_.push_back(int(nodes_.size()));
    nodes_.push_back(unscoped);
  }
}

QModelIndex LayerModel::indexOfPath(const QString& path) const {
  if (!layers_) return {};
  const std::string wanted = path.toStdString();
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    const std::string& have =
        node.scope < 0 ? std::string() : layers_->scopes[size_t(node.scope)].path;
    if (node.scope >= 0 ? have == wanted : wanted.empty())
      return createIndex(node.row, 0, quintptr(n));
  }
  return {};
}

const analysis::ScopeMeasures* LayerModel::measuresAt(const QModelIndex& index) const {
  const int n = nodeOf(index);
  if (n < 0 || !layers_) return nullptr;
  const Node& node = nodes_[size_t(n)];
  if (node.scope < 0) return &layers_->unscoped;
  const analysis::ScopeRow& row = layers_->scopes[size_t(node.scope)];
  return measures_ == Measures::kOwn ? &row.own : &row.subtree;
}

QModelIndex LayerModel::index(int row, int column, const QModelIndex& parent) const {
  if (column < 0 || column >= kColumns || row < 0) return {};
  if (parent.isValid() && parent.column() != 0) return {};
  const std::vector<int>& children = childrenOf(nodeOf(parent));
  if (row >= int(children.size())) return {};
  return createIndex(row, column, quintptr(children[size_t(row)]));
}

QModelIndex LayerModel::parent(const QModelIndex& child) const {
  const int n = nodeOf(child);
  if (n < 0) return {};
  const int p = nodes_[size_t(n)].parent;
  if (p < 0) return {};
  return createIndex(nodes_[size_t(p)].row, 0, quintptr(p));
}

int LayerModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return 0;
  return int(childrenOf(nodeOf(parent)).size());
}

int LayerModel::columnCount(const QModelIndex&) const {
  return kColumns;
}

QString freedInText(const analysis::ScopeMeasures& m) {
  QStringList parts;
  for (const analysis::FreedIn& f : m.outliving_freed_in)
    parts << QStringLiteral("%1 (%2)").arg(QString::fromStdString(f.scope), formatBytes(f.bytes));
  return parts.join(QStringLiteral(", "));
}

QVariant LayerModel::raw(const Node& node, int column) const {
  const analysis::ScopeRow* row = node.scope >= 0 ? &layers_->scopes[size_t(node.scope)] : nullptr;
  const analysis::ScopeMeasures& m = !row                          ? layers_->unscoped
                                     : measures_ == Measures::kOwn ? row->own
                                                                   : row->subtree;
  switch (column) {
    case kScope:
      if (!row) return tr("(no scope)");
      return QString::fromStdString(view_ == View::kTree ? row->name : row->path);
    case kPhase:
      return row ? QString::fromStdString(row->phase) : QString();
    case kAllocations:
      return qulonglong(m.allocations);
    case kBytes:
      return qulonglong(m.bytes);
    case kPoolBytes:
      return qulonglong(m.pool_bytes);
    case kPeakLive:
      return qulonglong(m.peak_live_bytes);
    case kHighWater:
      return qulonglong(m.high_water_bytes);
    case kMedianLifetime:
      return qulonglong(m.median_lifetime_ns);
    case kP95Lifetime:
      return qulonglong(m.p95_lifetime_ns);
    case kOutliving:
      return qulonglong(m.outliving_bytes);
    case kFreedIn:
      return freedInText(m);
    case kLiveAtStepEnd:
      return qulonglong(m.live_at_step_end_bytes);
  }
  return {};
}

QVariant LayerModel::data(const QModelIndex& index, int role) const {
  const int n = nodeOf(index);
  if (n < 0 || !layers_ || index.column() >= kColumns) return {};
  const Node& node = nodes_[size_t(n)];
  const int column = index.column();
  switch (role) {
    case Qt::DisplayRole: {
      const QVariant value = raw(node, column);
      switch (column) {
        case kAllocations:
          return formatCount(value.toULongLong());
        case kMedianLifetime:
        case kP95Lifetime:
          return formatDuration(value.toULongLong());
        case kScope:
        case kPhase:
        case kFreedIn:
          return value;
        default:
          return formatBytes(value.toULongLong());
      }
    }
    case kRawValueRole:
    case kSortRole:
      return raw(node, column);
    case kPathRole:
      return node.scope >= 0 ? QString::fromStdString(layers_->scopes[size_t(node.scope)].path)
                             : QString();
    case kScopeIdRole:
      return node.scope >= 0 ? layers_->scopes[size_t(node.scope)].id : 0u;
    case Qt::ToolTipRole:
      if (column == kScope) return data(index, kPathRole);
      if (column == kFreedIn || column == kOutliving) {
        const QString where = raw(node, kFreedIn).toString();
        return where.isEmpty() ? QVariant() : tr("Outlived the scope; freed in: %1").arg(where);
      }
      return {};
    case Qt::TextAlignmentRole:
      if (column == kScope || column == kPhase || column == kFreedIn)
        return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
      return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  }
  return {};
}

QVariant LayerModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case kPeakLive:
        return tr("Most bytes of these blocks live at once");
      case kHighWater:
        return tr(
            "The process's live bytes at their highest when one of these blocks was "
            "allocated");
      case kMedianLifetime:
      case kP95Lifetime:
        return tr("Of blocks freed during the trace (within 4%)");
      case kOutliving:
        return tr(
            "Bytes of blocks freed after the scope instance that allocated them exited "
            "(or never)");
      case kLiveAtStepEnd:
        return tr("Bytes allocated during a step and still live when the next step began");
    }
    return {};
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case kScope:
      return tr("Scope");
    case kPhase:
      return tr("Phase");
    case kAllocations:
      return tr("Allocations");
    case kBytes:
      return tr("Bytes");
    case kPoolBytes:
      return tr("Pool bytes");
    case kPeakLive:
      return tr("Peak live");
    case kHighWater:
      return tr("High-water");
    case kMedianLifetime:
      return tr("Median lifetime");
    case kP95Lifetime:
      return tr("p95 lifetime");
    case kOutliving:
      return tr("Outliving");
    case kFreedIn:
      return tr("Outliving freed in");
    case kLiveAtStepEnd:
      return tr("Live at step end");
  }
  return {};
}

}  // namespace memtide::gui
