// The blocks live at the moment picked on the timeline, as a flat table:
// size, memory (the timeline's track), kind, scope, top frame, age at that
// moment, step, thread. Filled from plain data computed off the UI thread
// (live_blocks_at plus each block's innermost frame, symbolized there).
#pragma once

#include <QAbstractTableModel>
#include <memory>
#include <string>
#include <vector>

#include "memtide/analysis/memory_timeline.h"

namespace memtide::gui {

struct TimelineLiveBlocks {
  analysis::LiveBlocks live;
  std::vector<std::string> top_frames;  // one per live.blocks entry
};

class TimelineLiveBlocksModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kSize, kMemory, kKind, kScope, kTopFrame, kAge, kStep, kThread, kColumns };
  static constexpr int kRawRole = Qt::UserRole + 1;  // the number behind a cell (qulonglong)

  explicit TimelineLiveBlocksModel(QObject* parent = nullptr);

  void setBlocks(std::shared_ptr<const TimelineLiveBlocks> blocks);
  const TimelineLiveBlocks* blocks() const { return blocks_.get(); }
  // "1,234 blocks live at +1.2 s: heap 3.4 MiB, pool arena 1 MiB (largest 1,000 shown)".
  QString summary(uint64_t run_start_ns) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const TimelineLiveBlocks> blocks_;
};

}  // namespace memtide::gui
