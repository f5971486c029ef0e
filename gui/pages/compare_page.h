// Two traces side by side (say, a run with and without --checkpoint): their
// memory over time overlaid, what `memtide diff` measures and gates on, and
// the per-layer table with its differences.
#pragma once

#include "core/scan_job.h"
#include "models/run_diff_model.h"
#include "models/scope_compare_model.h"
#include "pages/page.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace memtide::gui {

class OverlayChart;

class ComparePage : public Page {
  Q_OBJECT

 public:
  explicit ComparePage(QWidget* parent = nullptr);

  QString title() const override { return tr("Compare"); }
  QString key() const override { return QStringLiteral("compare"); }
  void setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) override;
  // base=PATH, new=PATH: the two traces (already open).
  void reveal(const QUrlQuery& query) override;
  bool busy() const override { return diff_job_.running(); }

  // The pair compared (null when fewer than two traces are open).
  TraceDocument* base() const { return base_; }
  TraceDocument* candidate() const { return candidate_; }
  void setPair(TraceDocument* base, TraceDocument* candidate);

  const ScopeCompareModel& layerModel() const { return layers_; }
  const RunDiffModel& diffModel() const { return diff_; }
  QSortFilterProxyModel* layerView() const { return layer_proxy_; }
  OverlayChart* chart() const { return chart_; }
  QCheckBox* changedOnly() const { return changed_only_; }

 private:
  void fillCombos();
  void comboChanged();
  void compare();

  QList<TraceDocument*> documents_;
  TraceDocument* base_ = nullptr;
  TraceDocument* candidate_ = nullptr;
  QString wanted_candidate_;  // a trace opened from this page, made the candidate once loaded

  QComboBox* base_combo_;
  QComboBox* candidate_combo_;
  QCheckBox* changed_only_;
  QLabel* status_;
  OverlayChart* chart_;
  RunDiffModel diff_;
  ScopeCompareModel layers_;
  QSortFilterProxyModel* layer_proxy_;
  QTableView* diff_view_;
  QTableView* layer_view_;
  JobSlot diff_job_;
};

}  // namespace memtide::gui
