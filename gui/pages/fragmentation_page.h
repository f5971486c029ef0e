// The Fragmentation page: allocator overhead and external fragmentation over
// the run (a chart that follows the document's time range), and, at one
// moment (the heap peak, a click on the chart, or the document's focus
// time), the extents then (heap arena, pool segments, GPU segments) with the
// map of the one chosen: its live blocks, holes and pinning blocks.
// Both analyses run off the UI thread: the run's series with the peak's
// state on open, a state at another moment when one is chosen.
// Links: memtide://fragmentation?t=NS&extent=NAME_OR_START
#pragma once

#include <QPointer>
#include <memory>
#include <optional>

#include "core/scan_job.h"
#include "memtide/analysis/fragmentation.h"
#include "models/frag_extent_model.h"
#include "pages/page.h"

class QLabel;
class QTableView;

namespace memtide::gui {

class ExtentMap;
class RatioChart;

class FragmentationPage : public Page {
  Q_OBJECT

 public:
  explicit FragmentationPage(QWidget* parent = nullptr);

  QString title() const override { return tr("Fragmentation"); }
  QString key() const override { return QStringLiteral("fragmentation"); }
  void setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) override;
  // t=NS: the state at that time; extent=NAME or START: that extent's map.
  void reveal(const QUrlQuery& query) override;
  bool busy() const override { return run_job_.running() || moment_job_.running(); }

  // Shows the state at `time_ns`, or at the heap peak for nullopt.
  void showMoment(std::optional<uint64_t> time_ns);
  // The moment asked for (nullopt: the peak) and the state shown.
  std::optional<uint64_t> moment() const { return moment_; }
  const analysis::FragmentationState* shownState() const { return extents_.state(); }
  const analysis::FragmentationReport* runReport() const { return run_.get(); }
  // The extent whose map is shown: a row of the extent model, or -1.
  int currentExtent() const;
  void selectExtent(int row);

  RatioChart* chart() const { return chart_; }
  ExtentMap* map() const { return map_; }
  QTableView* extentTable() const { return table_; }
  const FragExtentModel& extentModel() const { return extents_; }
  QString status() const;

 private:
  void startRunJob();
  void startMomentJob(uint64_t time_ns);
  void showRun(std::shared_ptr<const analysis::FragmentationReport> report);
  void showState(std::shared_ptr<const analysis::FragmentationReport> report);
  void followRange();
  void followFocus();
  void showExtent();
  void showBlock(int index);
  void setStatus(const QString& text);

  QPointer<TraceDocument> document_;
  std::shared_ptr<const analysis::FragmentationReport> run_;  // series + the peak's state
  std::optional<uint64_t> moment_;
  QString wanted_extent_;  // kept across moments; from reveal or the last selection
  JobSlot run_job_, moment_job_;

  FragExtentModel extents_;
  RatioChart* chart_;
  QLabel* moment_label_;
  QTableView* table_;
  QLabel* map_label_;
  ExtentMap* map_;
  QLabel* block_label_;
};

}  // namespace memtide::gui
