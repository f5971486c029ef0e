#include "models/leak_model.h"

#include <QColor>
#include <QFont>
#include <map>

#include "core/format.h"
#include "memtide/analysis/suppression_rule.h"

namespace memtide::gui {

namespace {

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

}  // namespace

std::vector<LeakItem> leakItems(const analysis::ProcessReport& p) {
  std::vector<LeakItem> items;
  for (const analysis::LeakGroup& g : p.leaks) {
    LeakItem item;
    item.category = qs(analysis::suppression_category(g.category));
    if (item.category.isEmpty()) item.category = qs(g.category);
    item.bytes = g.bytes;
    item.blocks = g.blocks;
    item.scope = qs(g.scope);
    item.device = qs(g.device);
    item.frames = g.frames;
    item.suppressed_by_report = item.suppressed = g.suppressed;
    items.push_back(std::move(item));
  }
  for (const analysis::ErrorGroup& e : p.errors) {
    LeakItem item;
    item.kind = LeakItem::Kind::kError;
    item.category = qs(analysis::suppression_category(e.kind));
    item.detail = qs(e.detail);
    item.blocks = e.count;
    item.frames = e.frames;
    items.push_back(std::move(item));
  }
  for (const analysis::GrowthGroup& g : p.growth) {
    LeakItem item;
    item.kind = LeakItem::Kind::kGrowth;
    item.category = QStringLiteral("growth");
    item.scope = qs(g.scope);
    item.device = qs(g.device);
    item.bytes = g.live_bytes;
    item.bytes_per_step = g.bytes_per_step;
    item.steps = g.steps;
    item.frames = g.frames;
    items.push_back(std::move(item));
  }
  return items;
}

const QStringList& leakCategories() {
  static const QStringList all = {
      QStringLiteral("definite"),  QStringLiteral("indirect"),     QStringLiteral("possible"),
      QStringLiteral("reachable"), QStringLiteral("not-freed"),    QStringLiteral("gpu"),
      QStringLiteral("mismatch"),  QStringLiteral("unknown-free"), QStringLiteral("growth")};
  return all;
}

QString leakCategoryTitle(const QString& c) {
  if (c.isEmpty()) return LeakModel::tr("All");
  if (c == "definite") return LeakModel::tr("Definitely lost");
  if (c == "indirect") return LeakModel::tr("Indirectly lost");
  if (c == "possible") return LeakModel::tr("Possibly lost");
  if (c == "reachable") return LeakModel::tr("Still reachable");
  if (c == "not-freed") return LeakModel::tr("Not freed (no leak scan)");
  if (c == "gpu") return LeakModel::tr("GPU memory not freed");
  if (c == "mismatch") return LeakModel::tr("Mismatched frees");
  if (c == "unknown-free") return LeakModel::tr("Frees of unknown pointers");
  if (c == "growth") return LeakModel::tr("Growth across steps");
  if (c == "errors") return LeakModel::tr("Errors");
  if (c == "leaks") return LeakModel::tr("Leaks");
  return c;
}

bool inLeakCategory(const LeakItem& item, const QString& category) {
  if (category.isEmpty()) return true;
  if (category == "errors") return item.kind == LeakItem::Kind::kError;
  if (category == "leaks") return item.kind == LeakItem::Kind::kLeak;
  return item.category == category;
}

QString groupFrameText(const std::vector<analysis::ReportFrame>& frames) {
  const auto i = analysis::identifying_frame(frames);
  if (!i) return frames.empty() ? QString() : qs(frames.front().function);
  const analysis::ReportFrame& f = frames[*i];
  if (!f.function.empty()) return qs(f.function);
  return QStringLiteral("%1+0x%2").arg(qs(f.module).section('/', -1)).arg(f.module_offset, 0, 16);
}

LeakModel::LeakModel(QObject* parent) : QAbstractItemModel(parent) {}

void LeakModel::setOverview(std::shared_ptr<const TraceOverview> overview) {
  beginResetModel();
  overview_ = std::move(overview);
  items_.clear();
  if (overview_ && overview_->process()) items_ = leakItems(*overview_->process());
  rebuild();
  endResetModel();
}

void LeakModel::setCategory(const QString& category) {
  if (category == category_) return;
  beginResetModel();
  category_ = category;
  rebuild();
  endResetModel();
}

void LeakModel::setGroupBy(GroupBy group_by) {
  if (group_by == group_by_) return;
  beginResetModel();
  group_by_ = group_by;
  rebuild();
  endResetModel();
}

void LeakModel::setSuppressions(const analysis::Suppressions& rules) {
  beginResetModel();
  for (LeakItem& item : items_)
    item.suppressed =
        item.suppressed_by_report || rules.matches(item.category.toStdString(), item.frames);
  rebuild();
  endResetModel();
}

void LeakModel::rebuild() {
  nodes_.clear();
  roots_.clear();
  std::map<std::pair<QString, QString>, int> scope_nodes;
  for (int i = 0; i < int(items_.size()); ++i) {
    const LeakItem& item = items_[size_t(i)];
    if (!inLeakCategory(item, category_)) continue;
    Node leaf;
    leaf.item = i;
    if (group_by_ == GroupBy::kScope) {
      auto [it, added] = scope_nodes.emplace(std::make_pair(item.category, item.scope), 0);
      if (added) {
        Node scope;
        scope.category = item.category;
        scope.scope = item.scope;
        scope.row = int(roots_.size());
        it->second = int(nodes_.size());
        roots_.push_back(it->second);
        nodes_.push_back(scope);
      }
      Node& parent = nodes_[size_t(it->second)];
      parent.bytes += item.bytes;
      parent.blocks += item.blocks;
      parent.suppressed = parent.suppressed && item.suppressed;
      leaf.parent = it->second;
      leaf.row = int(parent.children.size());
      parent.children.push_back(int(nodes_.size()));
    } else {
      leaf.row = int(roots_.size());
      roots_.push_back(int(nodes_.size()));
    }
    nodes_.push_back(leaf);
  }
}

const LeakItem* LeakModel::itemAt(const QModelIndex& index) const {
  const int n = nodeOf(index);
  if (n < 0 || nodes_[size_t(n)].item < 0) return nullptr;
  return &items_[size_t(nodes_[size_t(n)].item)];
}

QModelIndex LeakModel::indexOfItem(int item) const {
  for (size_t n = 0; n < nodes_.size(); ++n)
    if (nodes_[n].item == item) return createIndex(nodes_[n].row, 0, quintptr(n));
  return {};
}

QModelIndex LeakModel::index(int row, int column, const QModelIndex& parent) const {
  if (column < 0 || column >= kColumns || row < 0) return {};
  if (parent.isValid() && parent.column() != 0) return {};
  const std::vector<int>& children = childrenOf(nodeOf(parent));
  if (row >= int(children.size())) return {};
  return createIndex(row, column, quintptr(children[size_t(row)]));
}

QModelIndex LeakModel::parent(const QModelIndex& child) const {
  const int n = nodeOf(child);
  if (n < 0) return {};
  const int p = nodes_[size_t(n)].parent;
  if (p < 0) return {};
  return createIndex(nodes_[size_t(p)].row, 0, quintptr(p));
}

int LeakModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return 0;
  return int(childrenOf(nodeOf(parent)).size());
}

int LeakModel::columnCount(const QModelIndex&) const {
  return kColumns;
}

QVariant LeakModel::raw(const Node& node, int column) const {
  if (node.item < 0) {
    switch (column) {
      case kCategory:
        return node.category;
      case kBytes:
        return qulonglong(node.bytes);
      case kBlocks:
        return qulonglong(node.blocks);
      case kScope:
        return node.scope.isEmpty() ? tr("(no scope)") : node.scope;
      case kTopFrame:
        return tr("%n stacks", nullptr, int(node.children.size()));
    }
    return {};
  }
  const LeakItem& item = items_[size_t(node.item)];
  switch (column) {
    case kCategory:
      return item.category;
    case kBytes:
      return item.kind == LeakItem::Kind::kError ? QVariant() : qulonglong(item.bytes);
    case kBlocks:
      return item.kind == LeakItem::Kind::kGrowth ? QVariant() : qulonglong(item.blocks);
    case kPerStep:
      return item.kind == LeakItem::Kind::kGrowth ? qulonglong(item.bytes_per_step) : QVariant();
    case kSteps:
      return item.kind == LeakItem::Kind::kGrowth ? qulonglong(item.steps) : QVariant();
    case kScope:
      return item.kind == LeakItem::Kind::kError ? item.detail
             : item.scope.isEmpty()              ? tr("(no scope)")
                                                 : item.scope;
    case kTopFrame:
      return groupFrameText(item.frames);
    case kDevice:
      return item.device;
  }
  return {};
}

QVariant LeakModel::data(const QModelIndex& index, int role) const {
  const int n = nodeOf(index);
  if (n < 0 || index.column() >= kColumns) return {};
  const Node& node = nodes_[size_t(n)];
  const int column = index.column();
  const bool suppressed = node.item >= 0 ? items_[size_t(node.item)].suppressed : node.suppressed;
  switch (role) {
    case Qt::DisplayRole: {
      const QVariant value = raw(node, column);
      if (!value.isValid()) return {};
      switch (column) {
        case kBytes:
        case kPerStep:
          return formatBytes(value.toULongLong());
        case kBlocks:
        case kSteps:
          return formatCount(value.toULongLong());
        case kCategory:
          return suppressed ? tr("%1 (suppressed)").arg(value.toString()) : value.toString();
      }
      return value;
    }
    case kRawValueRole:
      return raw(node, column);
    case kSortRole: {
      const QVariant value = raw(node, column);
      return value.isValid() ? value : QVariant(qulonglong(0));
    }
    case kItemRole:
      return node.item;
    case kSuppressedRole:
      return suppressed;
    case Qt::ForegroundRole:
      if (suppressed) return QColor(Qt::gray);
      return {};
    case Qt::FontRole:
      if (suppressed) {
        QFont font;
        font.setItalic(true);
        return font;
      }
      return {};
    case Qt::ToolTipRole:
      if (column == kTopFrame && node.item >= 0) return raw(node, column);
      if (column == kCategory) return leakCategoryTitle(raw(node, kCategory).toString());
      return {};
    case Qt::TextAlignmentRole:
      if (column == kBytes || column == kBlocks || column == kPerStep || column == kSteps)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
  }
  return {};
}

QVariant LeakModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kCategory:
      return tr("Category");
    case kBytes:
      return tr("Bytes");
    case kBlocks:
      return tr("Blocks");
    case kPerStep:
      return tr("Growth per step");
    case kSteps:
      return tr("Steps");
    case kScope:
      return tr("Scope");
    case kTopFrame:
      return tr("Allocated in");
    case kDevice:
      return tr("Device");
  }
  return {};
}

}  // namespace memtide::gui
