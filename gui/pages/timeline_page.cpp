#include "pages/timeline_page.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>

#include "core/format.h"
#include "core/table_copy.h"
#include "core/trace_document.h"
#include "memtide/analysis/symbolizer.h"
#include "widgets/timeline_widget.h"

namespace memtide::gui {

namespace {

// The innermost frame of a stack, as the table shows it.
std::string describeTopFrame(analysis::Symbolizer& symbols, uint32_t stack) {
  if (stack == 0) return "(no stack)";
  const std::vector<analysis::ReportFrame> frames = symbols.stack(stack);
  if (frames.empty()) return "(no stack)";
  const analysis::ReportFrame& f = frames.front();
  if (!f.function.empty())
    return f.line > 0 ? f.function + " (" + f.file.substr(f.file.find_last_of('/') + 1) + ":" +
                            std::to_string(f.line) + ")"
                      : f.function;
  char offset[32];
  std::snprintf(offset, sizeof offset, "+0x%llx", static_cast<unsigned long long>(f.module_offset));
  return f.module.substr(f.module.find_last_of('/') + 1) + offset;
}

}  // namespace

TimelinePage::TimelinePage(QWidget* parent)
    : Page(parent),
      chart_(new TimelineWidget(this)),
      table_(new QTableView(this)),
      live_label_(new QLabel(this)),
      hint_(new QLabel(this)),
      clear_range_(new QToolButton(this)) {
  chart_->setObjectName(QStringLiteral("timelineChart"));
  table_->setObjectName(QStringLiteral("liveBlocksTable"));
  table_->setModel(&live_model_);
  table_->setSortingEnabled(false);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(false);
  table_->horizontalHeader()->setSectionResizeMode(TimelineLiveBlocksModel::kTopFrame,
                                                   QHeaderView::Stretch);
  installTableCopy(table_);
  live_label_->setWordWrap(true);
  live_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  hint_->setText(
      tr("Wheel: zoom · drag: pan · shift-drag or right-drag: select a range · click: what was "
         "live · +/-, arrows, Home"));
  clear_range_->setText(tr("Clear range"));
  clear_range_->setEnabled(false);

  auto* bar = new QHBoxLayout;
  bar->addWidget(hint_, 1);
  bar->addWidget(clear_range_);
  auto* below = new QWidget(this);
  auto* below_layout = new QVBoxLayout(below);
  below_layout->setContentsMargins(0, 0, 0, 0);
  below_layout->addWidget(live_label_);
  below_layout->addWidget(table_);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(chart_);
  splitter->addWidget(below);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(bar);
  layout->addWidget(splitter);

  refine_timer_.setSingleShot(true);
  refine_timer_.setInterval(kRefineDelayMs);
  connect(&refine_timer_, &QTimer::timeout, this, &TimelinePage::refine);
  connect(chart_, &TimelineWidget::windowChanged, this, &TimelinePage::scheduleRefine);
  connect(chart_, &TimelineWidget::rangeSelected, this, [this](uint64_t start, uint64_t end) {
    if (current_) current_->setTimeRange(TimeRange{start, end});
  });
  connect(chart_, &TimelineWidget::timeClicked, this, [this](uint64_t time, int lane) {
    TraceDocument* document =
        lane >= 0 && lane < int(lanes_.size()) ? lanes_[size_t(lane)]->document.data() : nullptr;
    pickTime(document ? document : current_.data(), time);
  });
  connect(clear_range_, &QToolButton::clicked, this, [this] {
    if (current_) current_->clearTimeRange();
  });
  live_label_->setText(live_model_.summary(0));
}

TimelinePage::~TimelinePage() = default;

bool TimelinePage::busy() const {
  if (live_job_.running() || refine_timer_.isActive()) return true;
  return std::any_of(lanes_.begin(), lanes_.end(), [](const std::unique_ptr<Lane>& lane) {
    return lane->whole.running() || lane->refine.running();
  });
}

QString TimelinePage::liveSummary() const {
  return live_label_->text();
}

int TimelinePage::laneOf(const TraceDocument* document) const {
  for (size_t i = 0; i < lanes_.size(); ++i)
    if (lanes_[i]->document == document) return int(i);
  return -1;
}

void TimelinePage::setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) {
  // Keep the lanes of documents still open (their series are computed).
  std::vector<std::unique_ptr<Lane>> lanes;
  for (TraceDocument* document : all) {
    auto it = std::find_if(lanes_.begin(), lanes_.end(),
                           [&](const auto& lane) { return lane && lane->document == document; });
    if (it != lanes_.end()) {
      lanes.push_back(std::move(*it));
    } else {
      lanes.push_back(std::make_unique<Lane>());
      lanes.back()->document = document;
      startWholeRun(*lanes.back());
    }
  }
  lanes_ = std::move(lanes);
  if (current_ != current) {
    if (current_) disconnect(current_, nullptr, this, nullptr);
    current_ = current;
    live_job_.cancel();
    live_model_.setBlocks(nullptr);
    if (current_) {
      connect(current_, &TraceDocument::timeRangeChanged, this, &TimelinePage::followSelection);
      connect(current_, &TraceDocument::focusTimeChanged, this, &TimelinePage::showLiveBlocks);
    }
    followSelection();
    showLiveBlocks();
  }
  rebuildLanes();
}

void TimelinePage::rebuildLanes() {
  std::vector<TimelineLane> lanes;
  for (const auto& lane : lanes_) {
    TimelineLane l;
    l.title = lane->document ? lane->document->displayName() : QString();
    l.coarse = lane->coarse;
    l.fine = lane->fine;
    l.current = lane->document == current_;
    lanes.push_back(std::move(l));
  }
  chart_->setLanes(std::move(lanes));
  scheduleRefine();
}

void TimelinePage::startWholeRun(Lane& lane) {
  const std::string path = lane.document->overview().path;
  Lane* target = &lane;
  lane.whole.start<analysis::MemoryTimeline>(
      this,
      [path](analysis::ScanControl& control) {
        analysis::TraceFile trace(path);
        trace.set_scan_control(&control);
        return analysis::memory_timeline(trace, {.buckets = kWholeRunBuckets});
      },
      [this, target](std::shared_ptr<const analysis::MemoryTimeline> timeline) {
        target->coarse = std::move(timeline);
        rebuildLanes();
      },
      [this](const QString& error) { live_label_->setText(tr("Timeline failed: %1").arg(error)); });
}

void TimelinePage::scheduleRefine() {
  refine_timer_.start();
}

void TimelinePage::refine() {
  const TimelineAxis& axis = chart_->axis();
  const uint64_t length = axis.windowLength();
  // A margin of half a window each side: small pans stay refined.
  const uint64_t start = axis.windowStart() - std::min(axis.windowStart(), length / 2);
  const uint64_t end = axis.windowEnd() + length / 2;
  const auto buckets = uint32_t(std::clamp(2.0 * chart_->plotWidth(), 256.0, 8192.0));
  for (const auto& each : lanes_) {
    Lane& lane = *each;
    if (!lane.coarse || !lane.document) continue;
    const analysis::MemoryTimeline& coarse = *lane.coarse;
    const double coarse_per_px = double(length) /
                                 (double(coarse.end_ns - coarse.start_ns) / coarse.bucket_count) /
                                 chart_->plotWidth();
    const bool fine_covers = lane.fine && lane.fine->start_ns <= axis.windowStart() &&
                             lane.fine->end_ns >= axis.windowEnd() &&
                             lane.fine->end_ns - lane.fine->start_ns <= 4 * length;
    if (coarse_per_px >= kBucketsPerPixel || fine_covers) continue;
    if (end <= coarse.start_ns || start >= coarse.end_ns) continue;
    const std::string path = lane.document->overview().path;
    const uint64_t from = std::max(start, coarse.start_ns), to = std::min(end, coarse.end_ns);
    Lane* target = &lane;
    lane.refine.start<analysis::MemoryTimeline>(
        this,
        [path, from, to, buckets](analysis::ScanControl& control) {
          analysis::TraceFile trace(path);
          trace.set_scan_control(&control);
          return analysis::memory_timeline(trace, {from, to, buckets});
        },
        [this, target](std::shared_ptr<const analysis::MemoryTimeline> timeline) {
          target->fine = timeline;
          chart_->setFine(laneOf(target->document), std::move(timeline));
        });
  }
}

void TimelinePage::pickTime(TraceDocument* document, uint64_t time_ns) {
  if (!document) return;
  document->setFocusTime(time_ns);  // the current one lists its blocks through the signal
  if (document != current_) showLiveBlocksOf(document);
}

void TimelinePage::showLiveBlocks() {
  showLiveBlocksOf(current_);
}

void TimelinePage::showLiveBlocksOf(TraceDocument* document) {
  const std::optional<uint64_t> time = document ? document->focusTime() : std::nullopt;
  chart_->setFocusTime(time);
  if (!time) {
    live_job_.cancel();
    live_model_.setBlocks(nullptr);
    live_label_->setText(live_model_.summary(0));
    return;
  }
  const std::string path = document->overview().path;
  const uint64_t t = *time;
  const uint64_t run_start = chart_->axis().extentStart();
  live_label_->setText(tr("Listing the blocks live at %1…").arg(formatOffset(t, run_start)));
  live_job_.start<TimelineLiveBlocks>(
      this,
      [path, t](analysis::ScanControl& control) {
        analysis::TraceFile trace(path);
        trace.set_scan_control(&control);
        TimelineLiveBlocks result;
        result.live = analysis::live_blocks_at(trace, t, kLiveBlockRows);
        analysis::Symbolizer symbols(trace);
        for (const analysis::LiveBlock& b : result.live.blocks)
          result.top_frames.push_back(describeTopFrame(symbols, b.stack));
        return result;
      },
      [this, run_start](std::shared_ptr<const TimelineLiveBlocks> blocks) {
        live_model_.setBlocks(std::move(blocks));
        live_label_->setText(live_model_.summary(run_start));
        table_->resizeColumnsToContents();
      },
      [this](const QString& error) {
        live_label_->setText(tr("Cannot list the live blocks: %1").arg(error));
      });
}

void TimelinePage::followSelection() {
  const std::optional<TimeRange> range = current_ ? current_->timeRange() : std::nullopt;
  clear_range_->setEnabled(range.has_value());
  chart_->setSelection(range ? std::optional(std::pair(range->start_ns, range->end_ns))
                             : std::nullopt);
}

void TimelinePage::reveal(const QUrlQuery& query) {
  bool ok = false;
  const uint64_t t = query.queryItemValue(QStringLiteral("t")).toULongLong(&ok);
  if (!ok || !current_) return;
  const uint64_t length = chart_->axis().windowLength();
  chart_->setWindow(t - std::min(t, length / 2), t - std::min(t, length / 2) + length);
  current_->setFocusTime(t);
}

}  // namespace memtide::gui
