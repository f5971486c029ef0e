#include "models/timeline_live_blocks_model.h"

#include "core/format.h"

namespace memtide::gui {

TimelineLiveBlocksModel::TimelineLiveBlocksModel(QObject* parent) : QAbstractTableModel(parent) {}

void TimelineLiveBlocksModel::setBlocks(std::shared_ptr<const TimelineLiveBlocks> blocks) {
  beginResetModel();
  blocks_ = std::move(blocks);
  endResetModel();
}

QString TimelineLiveBlocksModel::summary(uint64_t run_start_ns) const {
  if (!blocks_) return tr("Click the chart to list the blocks live at that moment.");
  const analysis::LiveBlocks& live = blocks_->live;
  QStringList parts;
  for (const analysis::LiveTotal& total : live.totals)
    parts << QStringLiteral("%1 %2").arg(QString::fromStdString(total.memory),
                                         formatBytes(total.bytes));
  QString text = tr("%1 blocks live at %2")
                     .arg(formatCount(live.blocks_total), formatOffset(live.time_ns, run_start_ns));
  if (!parts.isEmpty()) text += QStringLiteral(": ") + parts.join(QStringLiteral(", "));
  if (live.blocks.size() < live.blocks_total)
    text += tr(" (the largest %1 shown)").arg(formatCount(live.blocks.size()));
  return text;
}

int TimelineLiveBlocksModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !blocks_ ? 0 : int(blocks_->live.blocks.size());
}

int TimelineLiveBlocksModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

QVariant TimelineLiveBlocksModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid) || !blocks_) return {};
  const analysis::LiveBlock& b = blocks_->live.blocks[size_t(index.row())];
  const uint64_t age = blocks_->live.time_ns - b.alloc_time_ns;
  if (role == kRawRole) {
    switch (index.column()) {
      case kSize:
        return qulonglong(b.size);
      case kAge:
        return qulonglong(age);
      case kStep:
        return qlonglong(b.step);
      case kThread:
        return qlonglong(b.thread_id);
      default:
        return {};
    }
  }
  if (role == Qt::TextAlignmentRole) {
    const bool number = index.column() == kSize || index.column() == kAge ||
                        index.column() == kStep || index.column() == kThread;
    return QVariant::fromValue(number ? Qt::AlignRight | Qt::AlignVCenter
                                      : Qt::AlignLeft | Qt::AlignVCenter);
  }
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  switch (index.column()) {
    case kSize:
      return formatBytes(b.size);
    case kMemory:
      return QString::fromStdString(b.memory);
    case kKind:
      return QString::fromStdString(b.kind);
    case kScope:
      return b.scope.empty() ? tr("(none)") : QString::fromStdString(b.scope);
    case kTopFrame:
      return QString::fromStdString(blocks_->top_frames[size_t(index.row())]);
    case kAge:
      return formatDuration(age);
    case kStep:
      return b.step < 0 ? QStringLiteral("–") : QString::number(b.step);
    case kThread:
      return QString::number(b.thread_id);
  }
  return {};
}

QVariant TimelineLiveBlocksModel::headerData(int section, Qt::Orientation orientation,
                                             int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kSize:
      return tr("Size");
    case kMemory:
      return tr("Memory");
    case kKind:
      return tr("Kind");
    case kScope:
      return tr("Scope");
    case kTopFrame:
      return tr("Top frame");
    case kAge:
      return tr("Age");
    case kStep:
      return tr("Step");
    case kThread:
      return tr("Thread");
  }
  return {};
}

}  // namespace memtide::gui
