// The Compare page's "what changed" table: the measures `memtide diff`
// gates on (heap peak, leaked bytes, allocations per step, steps), then the
// allocation sites whose bytes grew most, each with base, new and change.
#pragma once

#include <QAbstractTableModel>
#include <memory>

#include "memtide/analysis/run_diff.h"

namespace memtide::gui {

class RunDiffModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kWhat, kBase, kNew, kChange, kColumns };
  static constexpr int kRawRole = Qt::UserRole + 1;  // the number (double) behind a cell

  explicit RunDiffModel(QObject* parent = nullptr);

  void setDiff(std::shared_ptr<const analysis::RunDiff> diff);
  const analysis::RunDiff* diff() const { return diff_.get(); }
  // Rows before the sites: the measures.
  static constexpr int kMeasureRows = 4;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const analysis::RunDiff> diff_;
};

}  // namespace memtide::gui
