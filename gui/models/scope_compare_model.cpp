#include "models/scope_compare_model.h"

#include <QBrush>
#include <QColor>

#include "core/format.h"

namespace memtide::gui {

ScopeCompareModel::ScopeCompareModel(QObject* parent) : QAbstractTableModel(parent) {}

void ScopeCompareModel::setChanges(std::vector<analysis::ScopeChange> changes) {
  beginResetModel();
  changes_ = std::move(changes);
  endResetModel();
}

int ScopeCompareModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(changes_.size());
}

int ScopeCompareModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

namespace {

// The number in a column, as signed bytes.
int64_t value(const analysis::ScopeChange& c, int column) {
  switch (column) {
    case ScopeCompareModel::kBaseBytes:
      return int64_t(c.base_bytes);
    case ScopeCompareModel::kNewBytes:
      return int64_t(c.new_bytes);
    case ScopeCompareModel::kBytesDelta:
      return c.bytes_delta();
    case ScopeCompareModel::kBasePeak:
      return int64_t(c.base_peak);
    case ScopeCompareModel::kNewPeak:
      return int64_t(c.new_peak);
    case ScopeCompareModel::kPeakDelta:
      return c.peak_delta();
    case ScopeCompareModel::kBaseOutliving:
      return int64_t(c.base_outliving);
    case ScopeCompareModel::kNewOutliving:
      return int64_t(c.new_outliving);
    case ScopeCompareModel::kOutlivingDelta:
      return c.outliving_delta();
    default:
      return 0;
  }
}

bool isDelta(int column) {
  return column == ScopeCompareModel::kBytesDelta || column == ScopeCompareModel::kPeakDelta ||
         column == ScopeCompareModel::kOutlivingDelta;
}

}  // namespace

QVariant ScopeCompareModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const analysis::ScopeChange& c = changes_[size_t(index.row())];
  const int column = index.column();
  if (column == kPath) {
    if (role == Qt::DisplayRole || role == kSortRole) {
      QString path = QString::fromStdString(c.path);
      if (role == Qt::DisplayRole && !c.in_base) path += tr(" (new)");
      if (role == Qt::DisplayRole && !c.in_new) path += tr(" (gone)");
      return path;
    }
    if (role == Qt::ToolTipRole) return QString::fromStdString(c.path);
    return {};
  }
  const int64_t v = value(c, column);
  switch (role) {
    case Qt::DisplayRole:
      if (isDelta(column)) return v ? formatSignedBytes(v) : QStringLiteral("0");
      return formatBytes(uint64_t(v));
    case kSortRole:
      return qlonglong(v);
    case Qt::TextAlignmentRole:
      return int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ForegroundRole:
      // Growth is what a regression looks like: red; shrinking green.
      if (isDelta(column) && v > 0) return QBrush(QColor(0xb0, 0x00, 0x20));
      if (isDelta(column) && v < 0) return QBrush(QColor(0x1b, 0x7a, 0x2e));
      return {};
    default:
      return {};
  }
}

QVariant ScopeCompareModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const names[kColumns] = {
      "Scope",    "Base bytes", "New bytes",      "Δ bytes",       "Base peak",
      "New peak", "Δ peak",     "Base outliving", "New outliving", "Δ outliving"};
  return section >= 0 && section < kColumns ? tr(names[section]) : QVariant();
}

}  // namespace memtide::gui
