// The extents of one fragmentation state as a table: the heap arena's
// extents, then each pool's segments (or the span of its sub-allocations),
// with their live and free bytes, holes and fragmentation. The page picks an
// extent here and draws it in the extent map; the tests compare every raw
// number with `memtide frag --json` for the same moment.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <memory>
#include <vector>

#include "memtide/analysis/fragmentation.h"

namespace memtide::gui {

class FragExtentModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    kName,
    kKind,
    kBacking,
    kStart,
    kSpan,
    kLiveBlocks,
    kLiveBytes,
    kFreeBytes,
    kHoles,
    kLargestHole,
    kFragmentation,
    kColumns
  };
  enum Role {
    kRawValueRole =
        Qt::UserRole + 1,  // the number behind a cell (qulonglong; double for kFragmentation)
  };

  // One row: the extent and what it belongs to.
  struct Row {
    QString name;     // "heap arena 1", "engine pool segment 2", "pool 3 span"
    QString backing;  // "heap", "mmap", "cuda:0", "span" for pools; "arena" for the heap arena
    int64_t pool = -1;
    const analysis::Extent* extent = nullptr;  // inside the report held by the model
  };

  explicit FragExtentModel(QObject* parent = nullptr);

  // Shows state `state` of `report` (null for none).
  void setState(std::shared_ptr<const analysis::FragmentationReport> report, size_t state = 0);
  const analysis::FragmentationState* state() const { return state_; }
  const std::vector<Row>& rows() const { return rows_; }
  // The row whose name (case-insensitive) or start address (0x hex or
  // decimal) is `key`; -1 when none.
  int findExtent(const QString& key) const;
  // The row whose free space is most cut up: the most free bytes outside its
  // largest hole, then the most free bytes (the first of equals); -1 when empty.
  int mostFragmentedRow() const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const analysis::FragmentationReport> report_;
  const analysis::FragmentationState* state_ = nullptr;
  std::vector<Row> rows_;
};

// The name a pool goes by in the page: its annotated name, or "pool ID".
QString poolDisplayName(const analysis::PoolLayout& pool);

}  // namespace memtide::gui
