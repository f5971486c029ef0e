#include "pages/fragmentation_page.h"

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "core/format.h"
#include "core/table_copy.h"
#include "core/trace_document.h"
#include "widgets/extent_map.h"
#include "widgets/ratio_chart.h"

namespace memtide::gui {

namespace {

// Sample times with a fragmentation point: enough for a smooth line across a
// wide chart, few enough that each walk of the live set stays cheap.
constexpr size_t kSeriesPoints = 240;

const QColor kSeriesColours[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e),
                                 QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd),
                                 QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2),
                                 QColor(0x17, 0xbe, 0xcf)};

QColor seriesColour(size_t i) {
  return kSeriesColours[i % std::size(kSeriesColours)];
}

std::vector<RatioPane> ratioPanes(const analysis::FragmentationReport& r) {
  RatioPane overhead;
  overhead.title = QObject::tr("Allocator overhead (× live requested heap)");
  RatioSeries heap{QObject::tr("arena + mapped chunks"), seriesColour(0), {}};
  RatioSeries rss{QObject::tr("RSS"), seriesColour(1), {}};
  for (const analysis::OverheadPoint& p : r.overhead) {
    if (p.heap_ratio) heap.points.emplace_back(p.time_ns, *p.heap_ratio);
    if (p.rss_ratio) rss.points.emplace_back(p.time_ns, *p.rss_ratio);
  }
  for (RatioSeries* s : {&heap, &rss})
    if (!s->points.empty()) overhead.series.push_back(std::move(*s));

  RatioPane external;
  external.title = QObject::tr("External fragmentation (1 − largest hole / free)");
  external.fixed_top = 1.0;
  RatioSeries arena{QObject::tr("heap arena"), seriesColour(2), {}};
  std::map<int64_t, RatioSeries> pools;
  for (const analysis::FragmentationPoint& p : r.series) {
    arena.points.emplace_back(p.time_ns, p.heap_arena.fragmentation());
    for (const analysis::PoolLayout& pool : p.pools) {
      RatioSeries& s = pools[pool.id];
      if (s.name.isEmpty()) s.name = poolDisplayName(pool);
      s.points.emplace_back(p.time_ns, pool.holes.fragmentation());
    }
  }
  if (!arena.points.empty()) external.series.push_back(std::move(arena));
  size_t colour = 3;
  for (auto& [id, s] : pools) {
    s.colour = seriesColour(colour++);
    external.series.push_back(std::move(s));
  }
  std::vector<RatioPane> panes;
  if (!overhead.series.empty()) panes.push_back(std::move(overhead));
  if (!external.series.empty()) panes.push_back(std::move(external));
  return panes;
}

}  // namespace

FragmentationPage::FragmentationPage(QWidget* parent)
    : Page(parent),
      chart_(new RatioChart(this)),
      moment_label_(new QLabel(this)),
      table_(new QTableView(this)),
      map_label_(new QLabel(this)),
      map_(new ExtentMap(this)),
      block_label_(new QLabel(this)) {
  auto* proxy = new QSortFilterProxyModel(this);
  proxy->setSourceModel(&extents_);
  proxy->setSortRole(FragExtentModel::kRawValueRole);
  table_->setObjectName(QStringLiteral("extentTable"));
  table_->setModel(proxy);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setSortingEnabled(true);
  table_->sortByColumn(-1, Qt::AscendingOrder);  // the analysis' order until a header is clicked
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  installTableCopy(table_);
  moment_label_->setObjectName(QStringLiteral("momentLabel"));
  moment_label_->setWordWrap(true);
  map_label_->setWordWrap(true);
  block_label_->setObjectName(QStringLiteral("blockLabel"));
  block_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  block_label_->setWordWrap(true);
  block_label_->setText(
      tr("Click a block for its details; hover for a quick look. Colour: "
         "scope. Red outline: the blocks pinning the most free space, "
         "the holes they split shaded."));

  auto* mapBox = new QWidget(this);
  auto* mapLayout = new QVBoxLayout(mapBox);
  mapLayout->setContentsMargins(0, 0, 0, 0);
  mapLayout->addWidget(map_label_);
  mapLayout->addWidget(map_, 1);
  mapLayout->addWidget(block_label_);
  auto* lower = new QSplitter(Qt::Vertical, this);
  lower->addWidget(table_);
  lower->addWidget(mapBox);
  lower->setStretchFactor(1, 2);
  auto* upper = new QWidget(this);
  auto* upperLayout = new QVBoxLayout(upper);
  upperLayout->setContentsMargins(0, 0, 0, 0);
  upperLayout->addWidget(chart_, 1);
  upperLayout->addWidget(moment_label_);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(upper);
  split->addWidget(lower);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(split);

  connect(chart_, &RatioChart::timeClicked, this, [this](quint64 t) {
    if (document_) document_->setFocusTime(t);
    showMoment(t);
  });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this] { showExtent(); });
  connect(map_, &ExtentMap::blockClicked, this, &FragmentationPage::showBlock);
  setDocuments({}, nullptr);
}

void FragmentationPage::setDocuments(const QList<TraceDocument*>&, TraceDocument* current) {
  if (current == document_ && current) return;
  if (document_) disconnect(document_, nullptr, this, nullptr);
  document_ = current;
  run_job_.cancel();
  moment_job_.cancel();
  run_.reset();
  map_->setExtent(nullptr, 0);
  extents_.setState(nullptr);
  chart_->setPanes({});
  chart_->setPeak(std::nullopt);
  moment_.reset();
  if (!current) {
    setStatus(tr("No trace open."));
    return;
  }
  connect(current, &TraceDocument::timeRangeChanged, this, &FragmentationPage::followRange);
  connect(current, &TraceDocument::focusTimeChanged, this, &FragmentationPage::followFocus);
  chart_->setTimeSpan(current->overview().start_ns(), current->overview().end_ns());
  followRange();
  startRunJob();
  if (current->focusTime())
    showMoment(current->focusTime());
  else
    setStatus(tr("Replaying the trace for the fragmentation over time and at the peak…"));
}

void FragmentationPage::startRunJob() {
  const std::string path = document_->overview().path;
  run_job_.start<analysis::FragmentationReport>(
      this,
      [path](analysis::ScanControl& control) {
        analysis::TraceFile trace(path);
        trace.set_scan_control(&control);
        analysis::FragmentationOptions options;
        options.moments = {true, false, std::nullopt, ""};
        options.series_points = kSeriesPoints;
        options.extent_blocks = true;
        return analysis::analyze_fragmentation(trace, options);
      },
      [this](std::shared_ptr<const analysis::FragmentationReport> r) { showRun(std::move(r)); },
      [this](const QString& error) {
        setStatus(tr("The fragmentation analysis failed: %1").arg(error));
      });
}

void FragmentationPage::startMomentJob(uint64_t time_ns) {
  const std::string path = document_->overview().path;
  setStatus(tr("Replaying the trace up to %1…")
                .arg(formatOffset(time_ns, document_->overview().start_ns())));
  moment_job_.start<analysis::FragmentationReport>(
      this,
      [path, time_ns](analysis::ScanControl& control) {
        analysis::TraceFile trace(path);
        trace.set_scan_control(&control);
        analysis::FragmentationOptions options;
        options.moments = {false, false, time_ns, ""};
        options.series_points = 0;
        options.extent_blocks = true;
        return analysis::analyze_fragmentation(trace, options);
      },
      [this](std::shared_ptr<const analysis::FragmentationReport> r) { showState(std::move(r)); },
      [this](const QString& error) {
        setStatus(tr("The state could not be computed: %1").arg(error));
      });
}

void FragmentationPage::showMoment(std::optional<uint64_t> time_ns) {
  if (!document_) return;
  if (time_ns == moment_ && (moment_job_.running() || shownState() != nullptr)) return;
  moment_ = time_ns;
  chart_->setMoment(time_ns ? time_ns : (run_ ? std::optional(run_->peak_time_ns) : std::nullopt));
  if (time_ns) {
    startMomentJob(*time_ns);
  } else {
    moment_job_.cancel();
    if (run_) showState(run_);  // the run's report holds the peak's state
  }
}

void FragmentationPage::showRun(std::shared_ptr<const analysis::FragmentationReport> report) {
  run_ = std::move(report);
  chart_->setPanes(ratioPanes(*run_));
  chart_->setPeak(run_->peak_time_ns);
  if (!moment_) {
    chart_->setMoment(run_->peak_time_ns);
    showState(run_);
  }
}

void FragmentationPage::showState(std::shared_ptr<const analysis::FragmentationReport> report) {
  map_->setExtent(nullptr, 0);
  extents_.setState(std::move(report));
  const analysis::FragmentationState* s = extents_.state();
  if (!s || !document_) return;
  analysis::HoleStats all = s->heap_arena;
  for (const analysis::PoolLayout& p : s->pools) all.add(p.holes);
  const QString when = formatOffset(s->time_ns, document_->overview().start_ns());
  setStatus(
      tr("%1 (%2): %3 live heap, %4 extents, %5 free in %6 holes, largest %7")
          .arg(s->label == "peak" ? tr("State at the heap peak") : tr("State at %1").arg(when),
               s->label == "peak" ? when : tr("after every event up to then"),
               formatBytes(s->live_heap_bytes))
          .arg(extents_.rowCount())
          .arg(formatBytes(all.free_bytes), formatCount(all.holes), formatBytes(all.largest_hole)));
  int row = wanted_extent_.isEmpty() ? -1 : extents_.findExtent(wanted_extent_);
  if (row < 0) row = extents_.mostFragmentedRow();
  selectExtent(row);
}

int FragmentationPage::currentExtent() const {
  const auto* proxy = static_cast<const QSortFilterProxyModel*>(table_->model());
  const QModelIndex current = proxy->mapToSource(table_->selectionModel()->currentIndex());
  return current.isValid() ? current.row() : -1;
}

void FragmentationPage::selectExtent(int row) {
  const auto* proxy = static_cast<const QSortFilterProxyModel*>(table_->model());
  const QModelIndex index = proxy->mapFromSource(extents_.index(row, 0));
  if (index.isValid()) {
    table_->selectionModel()->setCurrentIndex(
        index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    table_->scrollTo(index);
  }
  showExtent();
}

void FragmentationPage::showExtent() {
  const int row = currentExtent();
  if (row < 0 || !document_) {
    map_->setExtent(nullptr, 0);
    map_label_->setText(extents_.rowCount() ? tr("Choose an extent.")
                                            : tr("No extents at this moment."));
    return;
  }
  const FragExtentModel::Row& r = extents_.rows()[size_t(row)];
  const analysis::Extent& e = *r.extent;
  wanted_extent_ = r.name;
  map_->setExtent(&e, document_->overview().start_ns());
  map_label_->setText(tr("<b>%1</b> (%2, 0x%3 – 0x%4, %5): %6 live blocks, %7 free in %8 holes, "
                         "largest %9; %10 pinning blocks outlined")
                          .arg(r.name.toHtmlEscaped(), QString::fromStdString(e.kind))
                          .arg(e.start, 0, 16)
                          .arg(e.end, 0, 16)
                          .arg(formatBytes(e.holes.span_bytes), formatCount(e.holes.live_blocks),
                               formatBytes(e.holes.free_bytes), formatCount(e.holes.holes),
                               formatBytes(e.holes.largest_hole))
                          .arg(map_->pinningCount()));
}

void FragmentationPage::showBlock(int index) {
  if (index >= 0) block_label_->setText(map_->describeAt(map_->blockRect(index).center()));
}

void FragmentationPage::followRange() {
  if (!document_) return;
  const std::optional<TimeRange> range = document_->timeRange();
  chart_->setZoom(range ? std::optional(std::pair(range->start_ns, range->end_ns)) : std::nullopt);
}

void FragmentationPage::followFocus() {
  if (document_) showMoment(document_->focusTime());
}

void FragmentationPage::reveal(const QUrlQuery& query) {
  if (query.hasQueryItem(QStringLiteral("extent"))) {
    wanted_extent_ = query.queryItemValue(QStringLiteral("extent"));
    const int row = extents_.findExtent(wanted_extent_);
    if (row >= 0) selectExtent(row);
  }
  if (query.hasQueryItem(QStringLiteral("t"))) {
    bool ok = false;
    const uint64_t t = query.queryItemValue(QStringLiteral("t")).toULongLong(&ok);
    if (ok) {
      if (document_) document_->setFocusTime(t);
      showMoment(t);
    }
  }
}

QString FragmentationPage::status() const {
  return moment_label_->text();
}

void FragmentationPage::setStatus(const QString& text) {
  moment_label_->setText(text);
}

}  // namespace memtide::gui
