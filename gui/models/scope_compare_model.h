// The Compare page's per-layer table: every scope path of either run with
// its subtree bytes, peak of live blocks and outliving bytes in both, and
// the differences. Sorting by a number column sorts by the number
// (kSortRole), not its text.
#pragma once

#include <QAbstractTableModel>
#include <vector>

#include "memtide/analysis/scope_lifetimes.h"

namespace memtide::gui {

class ScopeCompareModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    kPath,
    kBaseBytes,
    kNewBytes,
    kBytesDelta,
    kBasePeak,
    kNewPeak,
    kPeakDelta,
    kBaseOutliving,
    kNewOutliving,
    kOutlivingDelta,
    kColumns
  };
  static constexpr int kSortRole = Qt::UserRole + 1;  // qlonglong for numbers, path text

  explicit ScopeCompareModel(QObject* parent = nullptr);

  void setChanges(std::vector<analysis::ScopeChange> changes);
  const analysis::ScopeChange& change(int row) const { return changes_[size_t(row)]; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<analysis::ScopeChange> changes_;
};

}  // namespace memtide::gui
