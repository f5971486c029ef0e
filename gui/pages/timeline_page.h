// The timeline page: memory over time for every open trace (one lane each,
// on a shared axis, the current one highlighted), zoomable and pannable,
// with the blocks live at a clicked moment listed below. A range selected on
// the chart becomes the document's time range, which filters every page.
//
// Jobs: the whole run of each trace is bucketed once when the page first
// sees it (kWholeRunBuckets); after the window settles on a part too narrow
// for those buckets, the visible part (with a margin for panning) is
// bucketed again at the plot's resolution. The coarse series keeps drawing
// until the fine one arrives.
#pragma once

#include <QPointer>
#include <QTimer>
#include <map>
#include <memory>

#include "core/scan_job.h"
#include "models/timeline_live_blocks_model.h"
#include "pages/page.h"

class QLabel;
class QTableView;
class QToolButton;

namespace memtide::gui {

class TimelineWidget;

class TimelinePage : public Page {
  Q_OBJECT

 public:
  static constexpr uint32_t kWholeRunBuckets = 16384;
  // A window showing fewer whole-run buckets than this many per pixel is refined.
  static constexpr double kBucketsPerPixel = 1.0;
  static constexpr int kRefineDelayMs = 120;
  static constexpr size_t kLiveBlockRows = 1000;

  explicit TimelinePage(QWidget* parent = nullptr);
  ~TimelinePage() override;

  QString title() const override { return tr("Timeline"); }
  QString key() const override { return QStringLiteral("timeline"); }
  void setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) override;
  // t=<ns>: picks that moment (absolute trace time) and centres it.
  void reveal(const QUrlQuery& query) override;
  bool busy() const override;

  TimelineWidget* chart() const { return chart_; }
  QTableView* liveTable() const { return table_; }
  const TimelineLiveBlocksModel& liveModel() const { return live_model_; }
  QString liveSummary() const;

 private:
  struct Lane {
    QPointer<TraceDocument> document;
    std::shared_ptr<const analysis::MemoryTimeline> coarse, fine;
    JobSlot whole, refine;
  };

  void rebuildLanes();
  void startWholeRun(Lane& lane);
  void scheduleRefine();
  void refine();
  void pickTime(TraceDocument* document, uint64_t time_ns);
  void showLiveBlocks();  // of the current document
  void showLiveBlocksOf(TraceDocument* document);
  void followSelection();
  int laneOf(const TraceDocument* document) const;

  std::vector<std::unique_ptr<Lane>> lanes_;
  QPointer<TraceDocument> current_;
  TimelineWidget* chart_;
  QTableView* table_;
  QLabel* live_label_;
  QLabel* hint_;
  QToolButton* clear_range_;
  QTimer refine_timer_;
  TimelineLiveBlocksModel live_model_;
  JobSlot live_job_;
};

}  // namespace memtide::gui
