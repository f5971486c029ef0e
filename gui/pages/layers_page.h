// The Layers page: the per-scope lifetime table of `memtide layers` (tree or
// flat, own or subtree numbers, sortable), restricted to the blocks
// allocated in the document's time range and/or one step, recomputed off
// the UI thread when either changes; selecting a row makes its scope the
// document's. Below it, the lifetime lanes of one step's blocks.
// Links: memtide://layers?scope=PATH selects a scope, ?step=N picks a step.
#pragma once

#include <QPointer>
#include <optional>

#include "core/scan_job.h"
#include "models/layer_model.h"
#include "pages/page.h"
#include "widgets/lifetime_lanes.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTreeView;

namespace memtide::gui {

class LayersPage : public Page {
  Q_OBJECT

 public:
  explicit LayersPage(QWidget* parent = nullptr);

  QString title() const override { return tr("Layers"); }
  QString key() const override { return QStringLiteral("layers"); }
  void setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) override;
  void reveal(const QUrlQuery& query) override;
  bool busy() const override { return table_job_.running() || lanes_job_.running(); }

  // The step the table is restricted to (none: every step).
  std::optional<int64_t> step() const;
  void setStep(std::optional<int64_t> step);
  // The step the lanes show: the chosen one, else the step of the peak.
  int64_t lanesStep() const;
  void setTreeView(bool tree);

  const LayerModel& model() const { return model_; }
  QTreeView* view() const { return view_; }
  QSortFilterProxyModel* proxy() const { return proxy_; }
  LifetimeLanes* lanes() const { return lanes_; }

 private:
  void refreshTable();
  void refreshLanes();
  void showFilter();
  void selectScope(const QString& path);
  void rowSelected();

  QPointer<TraceDocument> document_;
  LayerModel model_;
  QSortFilterProxyModel* proxy_;
  QTreeView* view_;
  QCheckBox* tree_;
  QComboBox* measures_;
  QComboBox* step_;
  QComboBox* memory_;  // all memory, host, or one GPU
  QLabel* filter_;
  QPushButton* whole_run_;
  QLabel* lanes_title_;
  LifetimeLanes* lanes_;
  QLabel* error_;
  JobSlot table_job_, lanes_job_;
};

}  // namespace memtide::gui
