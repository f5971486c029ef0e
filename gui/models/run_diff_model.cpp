#include "models/run_diff_model.h"

#include <QBrush>
#include <QColor>

#include "core/format.h"

namespace memtide::gui {
namespace {

struct Row {
  QString what;
  double base = 0, candidate = 0;
  bool bytes = true;  // formatted as bytes, else as a plain number
};

Row rowOf(const analysis::RunDiff& d, int row) {
  switch (row) {
    case 0:
      return {QObject::tr("Heap peak"), double(d.base.peak_bytes), double(d.candidate.peak_bytes)};
    case 1:
      return {QObject::tr("Leaked bytes"), double(d.base.leaked_bytes),
              double(d.candidate.leaked_bytes)};
    case 2:
      return {QObject::tr("Allocations per step"), d.base.allocations_per_step(),
              d.candidate.allocations_per_step(), false};
    case 3:
      return {QObject::tr("Training steps"), double(d.base.steps), double(d.candidate.steps),
              false};
    default: {
      const analysis::SiteChange& s = d.grown[size_t(row - RunDiffModel::kMeasureRows)];
      return {QObject::tr("site %1").arg(QString::fromStdString(s.site)), double(s.base_bytes),
              double(s.new_bytes)};
    }
  }
}

QString formatValue(double v, bool bytes) {
  if (bytes) return v < 0 ? formatSignedBytes(int64_t(v)) : formatBytes(uint64_t(v));
  return QString::number(v, 'f', v == double(int64_t(v)) ? 0 : 1);
}

}  // namespace

RunDiffModel::RunDiffModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunDiffModel::setDiff(std::shared_ptr<const analysis::RunDiff> diff) {
  beginResetModel();
  diff_ = std::move(diff);
  endResetModel();
}

int RunDiffModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !diff_) return 0;
  return kMeasureRows + int(diff_->grown.size());
}

int RunDiffModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

QVariant RunDiffModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !diff_ || index.row() >= rowCount()) return {};
  const Row row = rowOf(*diff_, index.row());
  const double change = row.candidate - row.base;
  if (role == kRawRole) {
    switch (index.column()) {
      case kBase:
        return row.base;
      case kNew:
        return row.candidate;
      case kChange:
        return change;
      default:
        return {};
    }
  }
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case kWhat:
        return row.what;
      case kBase:
        return formatValue(row.base, row.bytes);
      case kNew:
        return formatValue(row.candidate, row.bytes);
      case kChange: {
        QString text = row.bytes ? formatSignedBytes(int64_t(change))
                                 : (change >= 0 ? "+" : "") + formatValue(change, false);
        if (row.base > 0)
          text += QStringLiteral(" (%1%)").arg(100.0 * change / row.base, 0, 'f', 1);
        return text;
      }
      default:
        return {};
    }
  }
  if (role == Qt::ToolTipRole && index.column() == kWhat) return row.what;
  if (role == Qt::TextAlignmentRole && index.column() != kWhat)
    return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ForegroundRole && index.column() == kChange && change != 0)
    return QBrush(change > 0 ? QColor(0xb0, 0x00, 0x20) : QColor(0x1b, 0x7a, 0x2e));
  return {};
}

QVariant RunDiffModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const names[kColumns] = {"What", "Base", "New", "Change"};
  return section >= 0 && section < kColumns ? tr(names[section]) : QVariant();
}

}  // namespace memtide::gui
