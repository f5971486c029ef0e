// One call tree (top-down or bottom-up) as a Qt tree model: function, own,
// inclusive and its share of the total, file:line and module per node. The
// tree is plain data built off the UI thread (analysis/stack_tree.h); the
// model only points into it, so a new tree is one reset.
#pragma once

#include <QAbstractItemModel>
#include <memory>

#include "memtide/analysis/stack_tree.h"

namespace memtide::gui {

class CallTreeModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  enum Column { kFunction, kOwn, kInclusive, kPercent, kLocation, kModule, kColumns };
  enum Role {
    kSortRole = Qt::UserRole + 1,  // numbers as qulonglong, text as QString
    kNodeRole,                     // the node's index in the tree (uint)
  };

  explicit CallTreeModel(QObject* parent = nullptr);

  // Null for none. `measure` says how to write the numbers (bytes or counts).
  void setTree(std::shared_ptr<const analysis::CallTree> tree, analysis::StackMeasure measure);
  const analysis::CallTree* tree() const { return tree_.get(); }
  analysis::StackMeasure measure() const { return measure_; }
  // The index of a node (column 0); invalid for kNoParent.
  QModelIndex indexOfNode(uint32_t node) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  const analysis::CallTreeNode& node(const QModelIndex& index) const {
    return tree_->nodes[size_t(index.internalId())];
  }

  std::shared_ptr<const analysis::CallTree> tree_;
  analysis::StackMeasure measure_ = analysis::StackMeasure::kAllocatedBytes;
};

// How a value of `measure` reads: "1.5 MiB" or "1,234".
QString formatMeasure(analysis::StackMeasure measure, uint64_t value);
// "12.3 %" of `total`.
QString formatShare(uint64_t value, uint64_t total);
// "file.cc:42" (the file's name only; no line when unknown or merged).
QString frameLocation(const analysis::ReportFrame& frame);
// What a frame is, for tooltips: function, file:line, module (full paths).
QString frameDescription(const analysis::CallTreeNode& node);

}  // namespace memtide::gui
