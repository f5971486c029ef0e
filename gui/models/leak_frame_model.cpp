#include "models/leak_frame_model.h"

#include <QFileInfo>
#include <QFont>

#include "memtide/analysis/suppression_rule.h"

namespace memtide::gui {

LeakFrameModel::LeakFrameModel(QObject* parent) : QAbstractTableModel(parent) {}

void LeakFrameModel::setFrames(std::vector<analysis::ReportFrame> frames) {
  beginResetModel();
  frames_ = std::move(frames);
  exists_.clear();
  // Looked up once here, not on every paint.
  for (const analysis::ReportFrame& f : frames_)
    exists_.push_back(!f.file.empty() && QFileInfo(QString::fromStdString(f.file)).isFile());
  identifying_ = int(analysis::identifying_frame(frames_).value_or(size_t(-1)));
  if (identifying_ >= int(frames_.size())) identifying_ = -1;
  endResetModel();
}

int LeakFrameModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(frames_.size());
}

int LeakFrameModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

QVariant LeakFrameModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= int(frames_.size())) return {};
  const analysis::ReportFrame& f = frames_[size_t(index.row())];
  const QString file = QString::fromStdString(f.file);
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kNumber:
          return index.row();
        case kFunction: {
          QString name = f.function.empty() ? tr("?") : QString::fromStdString(f.function);
          return f.inlined ? tr("%1 (inlined)").arg(name) : name;
        }
        case kLocation:
          if (f.file.empty()) return QStringLiteral("0x%1").arg(f.module_offset, 0, 16);
          return f.line ? QStringLiteral("%1:%2").arg(file).arg(f.line) : file;
        case kModule:
          return QString::fromStdString(f.module).section('/', -1);
      }
      return {};
    case Qt::ToolTipRole:
      if (index.column() == kModule) return QString::fromStdString(f.module);
      if (index.column() == kLocation && !f.file.empty())
        return exists_[size_t(index.row())] ? tr("Double-click to show the source")
                                            : tr("Not on this machine's disk");
      if (index.column() == kFunction && f.inlined) return tr("Inlined into the frame below it");
      return {};
    case Qt::FontRole:
      if (index.row() == identifying_) {
        QFont bold;
        bold.setBold(true);
        return bold;
      }
      return {};
    case kFileRole:
      return file;
    case kLineRole:
      return f.line;
    case kFileExistsRole:
      return bool(exists_[size_t(index.row())]);
  }
  return {};
}

QVariant LeakFrameModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kNumber:
      return tr("#");
    case kFunction:
      return tr("Function");
    case kLocation:
      return tr("Source");
    case kModule:
      return tr("Module");
  }
  return {};
}

}  // namespace memtide::gui
