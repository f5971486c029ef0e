// The Layers page's table: one row per scope of a ScopeLifetimes (what
// `memtide layers` prints), as a tree (children under their parent) or a
// flat list, with either the scope's own numbers or its subtree's, plus a
// "(no scope)" row for blocks allocated outside every scope. Raw numbers
// behind every cell (kRawValueRole) and sort keys (kSortRole) so that a
// QSortFilterProxyModel sorts it, tree included.
#pragma once

#include <QAbstractItemModel>
#include <memory>
#include <vector>

#include "memtide/analysis/scope_lifetimes.h"

namespace memtide::gui {

class LayerModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  enum Column {
    kScope,
    kPhase,
    kAllocations,
    kBytes,
    kPoolBytes,
    kPeakLive,
    kHighWater,
    kMedianLifetime,
    kP95Lifetime,
    kOutliving,
    kFreedIn,
    kLiveAtStepEnd,
    kColumns
  };
  enum Role {
    kRawValueRole = Qt::UserRole + 1,  // qulonglong for numbers, the text otherwise
    kSortRole,                         // what the proxy sorts by
    kPathRole,                         // scope path; empty for "(no scope)"
    kScopeIdRole,                      // scope id (0 for "(no scope)")
  };
  enum class View { kTree, kFlat };
  enum class Measures { kSubtree, kOwn };

  explicit LayerModel(QObject* parent = nullptr);

  void setLayers(std::shared_ptr<const analysis::ScopeLifetimes> layers);
  const analysis::ScopeLifetimes* layers() const { return layers_.get(); }
  void setView(View view);
  View view() const { return view_; }
  void setMeasures(Measures measures);
  Measures measures() const { return measures_; }

  // The row of this scope path (column 0), or an invalid index.
  QModelIndex indexOfPath(const QString& path) const;
  // The numbers a row shows (own or subtree, as set).
  const analysis::ScopeMeasures* measuresAt(const QModelIndex& index) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  // A row: a scope (index into layers_->scopes) or the "(no scope)" row.
  struct Node {
    int scope = -1;  // -1: "(no scope)"
    int parent = -1;
    int row = 0;  // among its parent's children
    std::vector<int> children;
  };
  void rebuild();
  const std::vector<int>& childrenOf(int node) const {
    return node < 0 ? roots_ : nodes_[size_t(node)].children;
  }
  int nodeOf(const QModelIndex& index) const {
    return index.isValid() ? int(index.internalId()) : -1;
  }
  QVariant raw(const Node& node, int column) const;

  std::shared_ptr<const analysis::ScopeLifetimes> layers_;
  View view_ = View::kTree;
  Measures measures_ = Measures::kSubtree;
  std::vector<Node> nodes_;
  std::vector<int> roots_;
};

// "model.fc1 (12.0 MiB), (not freed) (64 KiB)": where outliving blocks were freed.
QString freedInText(const analysis::ScopeMeasures& measures);

}  // namespace memtide::gui
