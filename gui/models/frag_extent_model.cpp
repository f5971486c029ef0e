#include "models/frag_extent_model.h"

#include <utility>

#include "core/format.h"

namespace memtide::gui {

namespace {

QString hexAddress(uint64_t address) {
  return QStringLiteral("0x%1").arg(address, 0, 16);
}

// "segment 2" among a pool's segments, "span" for its unbacked sub-allocations.
QString poolExtentName(const analysis::PoolLayout& pool, const analysis::Extent& extent,
                       int segment) {
  const QString owner = poolDisplayName(pool);
  if (extent.kind == "pool span") return owner + QStringLiteral(" span");
  const QString what =
      extent.kind == "gpu segment" ? QStringLiteral("gpu segment") : QStringLiteral("segment");
  return QStringLiteral("%1 %2 %3").arg(owner, what).arg(segment);
}

}  // namespace

QString poolDisplayName(const analysis::PoolLayout& pool) {
  return pool.name.empty() ? QStringLiteral("pool %1").arg(pool.id)
                           : QString::fromStdString(pool.name);
}

FragExtentModel::FragExtentModel(QObject* parent) : QAbstractTableModel(parent) {}

void FragExtentModel::setState(std::shared_ptr<const analysis::FragmentationReport> report,
                               size_t state) {
  beginResetModel();
  report_ = std::move(report);
  state_ = report_ && state < report_->states.size() ? &report_->states[state] : nullptr;
  rows_.clear();
  if (state_) {
    int arena = 0;
    for (const analysis::Extent& e : state_->arena_extents)
      rows_.push_back(
          {QStringLiteral("heap arena %1").arg(++arena), QStringLiteral("arena"), -1, &e});
    for (const analysis::PoolLayout& p : state_->pools) {
      int segment = 0;
      for (const analysis::Extent& e : p.extents) {
        if (e.kind != "pool span") ++segment;
        rows_.push_back(
            {poolExtentName(p, e, segment), QString::fromStdString(p.backing), p.id, &e});
      }
    }
  }
  endResetModel();
}

int FragExtentModel::findExtent(const QString& key) const {
  bool is_number = false;
  const uint64_t address = key.startsWith(QStringLiteral("0x"), Qt::CaseInsensitive)
                               ? key.mid(2).toULongLong(&is_number, 16)
                               : key.toULongLong(&is_number, 10);
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].name.compare(key, Qt::CaseInsensitive) == 0) return int(i);
    if (is_number && rows_[i].extent->start == address) return int(i);
  }
  return -1;
}

int FragExtentModel::mostFragmentedRow() const {
  auto cut = [&](size_t i) {
    const analysis::HoleStats& h = rows_[i].extent->holes;
    return std::pair(h.free_bytes - h.largest_hole, h.free_bytes);
  };
  int best = -1;
  for (size_t i = 0; i < rows_.size(); ++i)
    if (best < 0 || cut(i) > cut(size_t(best))) best = int(i);
  return best;
}

int FragExtentModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(rows_.size());
}

int FragExtentModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

QVariant FragExtentModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= int(rows_.size())) return {};
  const Row& row = rows_[size_t(index.row())];
  const analysis::Extent& e = *row.extent;
  const analysis::HoleStats& h = e.holes;
  const auto column = Column(index.column());
  if (role == kRawValueRole) {
    switch (column) {
      case kStart:
        return qulonglong(e.start);
      case kSpan:
        return qulonglong(h.span_bytes);
      case kLiveBlocks:
        return qulonglong(h.live_blocks);
      case kLiveBytes:
        return qulonglong(h.used_bytes);
      case kFreeBytes:
        return qulonglong(h.free_bytes);
      case kHoles:
        return qulonglong(h.holes);
      case kLargestHole:
        return qulonglong(h.largest_hole);
      case kFragmentation:
        return h.fragmentation();
      default:
        return {};
    }
  }
  if (role == Qt::TextAlignmentRole)
    return column >= kSpan ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
  if (role == Qt::ToolTipRole && column == kFragmentation)
    return tr(
        "1 − largest hole / free bytes: 0 when the free space is one hole, near 1 when it "
        "is crumbs no large request could use");
  if (role != Qt::DisplayRole) return {};
  switch (column) {
    case kName:
      return row.name;
    case kKind:
      return QString::fromStdString(e.kind);
    case kBacking:
      return row.backing;
    case kStart:
      return hexAddress(e.start);
    case kSpan:
      return formatBytes(h.span_bytes);
    case kLiveBlocks:
      return formatCount(h.live_blocks);
    case kLiveBytes:
      return formatBytes(h.used_bytes);
    case kFreeBytes:
      return formatBytes(h.free_bytes);
    case kHoles:
      return formatCount(h.holes);
    case kLargestHole:
      return formatBytes(h.largest_hole);
    case kFragmentation:
      return QStringLiteral("%1").arg(h.fragmentation(), 0, 'f', 3);
    default:
      return {};
  }
}

QVariant FragExtentModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (Column(section)) {
    case kName:
      return tr("Extent");
    case kKind:
      return tr("Kind");
    case kBacking:
      return tr("Backing");
    case kStart:
      return tr("Start");
    case kSpan:
      return tr("Size");
    case kLiveBlocks:
      return tr("Live blocks");
    case kLiveBytes:
      return tr("Live bytes");
    case kFreeBytes:
      return tr("Free bytes");
    case kHoles:
      return tr("Holes");
    case kLargestHole:
      return tr("Largest hole");
    case kFragmentation:
      return tr("Fragmentation");
    default:
      return {};
  }
}

}  // namespace memtide::gui
