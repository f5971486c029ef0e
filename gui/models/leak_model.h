// The Leaks page's groups: every leak group of the report (definite,
// indirect, possible, reachable, not-freed, gpu), its mismatched and unknown
// frees and its growth groups, as one list filtered by category and grouped
// by stack (the report's groups, one row each: a stack, a scope, a device)
// or by scope (a row per category and scope, its stacks under it). Groups a
// suppressions file matches are marked suppressed.
#pragma once

#include <QAbstractItemModel>
#include <memory>
#include <optional>
#include <vector>

#include "core/trace_overview.h"
#include "memtide/analysis/suppressions.h"

namespace memtide::gui {

// One group of any kind, as the page shows it.
struct LeakItem {
  enum class Kind { kLeak, kError, kGrowth };
  Kind kind = Kind::kLeak;
  QString category;  // definite, ..., not-freed, gpu, mismatch, unknown-free, growth
  QString scope, device, detail;
  uint64_t bytes = 0;                      // leaked bytes; growth: live at the end
  uint64_t blocks = 0;                     // leaked blocks; errors: occurrences
  uint64_t bytes_per_step = 0, steps = 0;  // growth only
  std::vector<analysis::ReportFrame> frames;
  bool suppressed_by_report = false;  // by the rules the trace was loaded with
  bool suppressed = false;            // that, or a rule of the page's file
};

// The groups of one process report, leaks first (the report's order).
std::vector<LeakItem> leakItems(const analysis::ProcessReport& process);
// Every category the page lists, in order, and its title.
const QStringList& leakCategories();
QString leakCategoryTitle(const QString& category);
// True when `item` belongs to `category` ("" all, "errors", "leaks").
bool inLeakCategory(const LeakItem& item, const QString& category);

class LeakModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  enum Column {
    kCategory,
    kBytes,
    kBlocks,
    kPerStep,
    kSteps,
    kScope,
    kTopFrame,
    kDevice,
    kColumns
  };
  enum Role {
    kRawValueRole = Qt::UserRole + 1,  // qulonglong or text
    kSortRole,
    kItemRole,  // int: the index in items() of a group row; -1 for a scope row
    kSuppressedRole,
  };
  enum class GroupBy { kStack, kScope };

  explicit LeakModel(QObject* parent = nullptr);

  void setOverview(std::shared_ptr<const TraceOverview> overview);
  void setCategory(const QString& category);  // "" for all
  QString category() const { return category_; }
  void setGroupBy(GroupBy group_by);
  GroupBy groupBy() const { return group_by_; }
  // Rules besides the report's own (the page's suppressions file).
  void setSuppressions(const analysis::Suppressions& rules);

  const std::vector<LeakItem>& items() const { return items_; }
  const LeakItem* itemAt(const QModelIndex& index) const;
  // The row of items()[i] (column 0), or an invalid index when filtered out.
  QModelIndex indexOfItem(int item) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  // A row: a group (item >= 0) or, grouped by scope, a category and scope
  // with its groups under it.
  struct Node {
    int item = -1;
    int parent = -1;
    int row = 0;
    std::vector<int> children;
    QString category, scope;
    uint64_t bytes = 0, blocks = 0;
    bool suppressed = true;  // all of its groups are
  };
  void rebuild();
  int nodeOf(const QModelIndex& index) const {
    return index.isValid() ? int(index.internalId()) : -1;
  }
  const std::vector<int>& childrenOf(int node) const {
    return node < 0 ? roots_ : nodes_[size_t(node)].children;
  }
  QVariant raw(const Node& node, int column) const;

  std::shared_ptr<const TraceOverview> overview_;
  std::vector<LeakItem> items_;
  QString category_;
  GroupBy group_by_ = GroupBy::kStack;
  std::vector<Node> nodes_;
  std::vector<int> roots_;
};

// "samples::plant_workspace_leak(unsigned long)": the frame a group is known
// by (its program's innermost frame), or module+offset.
QString groupFrameText(const std::vector<analysis::ReportFrame>& frames);

}  // namespace memtide::gui
