// The Call trees page: where the heap bytes come from, as a top-down tree,
// a bottom-up tree and a flame graph of the same stacks, by peak, bytes
// allocated, count, leaked or temporaries, restricted to the document's time
// range and scope. The trees are built off the UI thread; a new measure,
// range or scope asks again and drops the answer to the old question.
#pragma once

#include <memory>

#include "core/scan_job.h"
#include "memtide/analysis/stack_tree.h"
#include "models/calltree_model.h"
#include "pages/page.h"
#include "widgets/flame_graph_layout.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTabWidget;
class QTreeView;

namespace memtide::gui {

class FlameGraph;

// What one query answers: the trees and the flame graph's rectangles.
struct CallTreeData {
  analysis::StackTrees trees;
  FlameLayout flame;
};

class CalltreePage : public Page {
  Q_OBJECT

 public:
  explicit CalltreePage(QWidget* parent = nullptr);

  QString title() const override { return tr("Call trees"); }
  QString key() const override { return QStringLiteral("calltree"); }
  void setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) override;
  // measure=peak|allocated|count|leaked|temporaries, function=TEXT (the
  // search), view=top-down|bottom-up|flame, category=definite|... (leaks).
  void reveal(const QUrlQuery& query) override;
  QWidget* exportTarget() override;
  bool busy() const override { return job_.running(); }

  analysis::StackMeasure measure() const;
  void setMeasure(analysis::StackMeasure measure);
  // The last answer; null before the first or without a trace.
  std::shared_ptr<const CallTreeData> data() const { return data_; }

  QComboBox* measureBox() const { return measure_; }
  QComboBox* categoryBox() const { return category_; }
  QLineEdit* searchBox() const { return search_; }
  QTabWidget* views() const { return views_; }
  QTreeView* topDownView() const { return top_down_view_; }
  QTreeView* bottomUpView() const { return bottom_up_view_; }
  FlameGraph* flameGraph() const { return flame_; }
  const CallTreeModel& topDownModel() const { return top_down_; }
  const CallTreeModel& bottomUpModel() const { return bottom_up_; }
  QLabel* statusLabel() const { return status_; }

 private:
  void requery();
  void showData(std::shared_ptr<const CallTreeData> data);
  void applySearch();
  void updateStatus();
  QTreeView* makeTree(CallTreeModel* model, QSortFilterProxyModel* proxy);

  TraceDocument* document_ = nullptr;
  QList<QMetaObject::Connection> connections_;
  JobSlot job_;
  std::shared_ptr<const CallTreeData> data_;
  QString error_;

  CallTreeModel top_down_, bottom_up_;
  QSortFilterProxyModel *top_down_proxy_, *bottom_up_proxy_;
  QComboBox *measure_, *category_;
  QLineEdit* search_;
  QLabel* status_;
  QTabWidget* views_;
  QTreeView *top_down_view_, *bottom_up_view_;
  FlameGraph* flame_;
};

}  // namespace memtide::gui
