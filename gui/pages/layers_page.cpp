#include "pages/layers_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTreeView>
#include <QVBoxLayout>
#include <unordered_set>

#include "core/format.h"
#include "core/table_copy.h"
#include "core/trace_document.h"
#include "memtide/analysis/step_lifetimes.h"
#include "memtide/analysis/suppression_rule.h"
#include "memtide/analysis/symbolizer.h"

namespace memtide::gui {

namespace {

// Enough for every block of a training step of a real model; beyond it the
// largest are kept and the label says how many were left out.
constexpr size_t kMaxLaneBars = 20000;
constexpr size_t kTooltipFrames = 6;

StepLanes computeLanes(const std::string& path, int64_t step, analysis::ScanControl& control) {
  analysis::TraceFile trace(path);
  trace.set_scan_control(&control);
  StepLanes lanes;
  analysis::StepLifetimesOptions options;
  options.max_bars = kMaxLaneBars;
  lanes.gantt = analysis::step_lifetimes(trace, step, options);
  analysis::Symbolizer symbols(trace);
  for (const analysis::LifetimeBar& bar : lanes.gantt.bars) {
    if (bar.stack == 0 || lanes.stacks.count(bar.stack)) continue;
    if (control.cancelled.load()) throw analysis::ScanCancelled("cancelled");
    std::vector<analysis::ReportFrame> frames = symbols.stack(bar.stack);
    // From the program's own innermost frame: the agent's frames say nothing.
    const size_t first = analysis::identifying_frame(frames).value_or(0);
    frames.erase(frames.begin(), frames.begin() + ptrdiff_t(std::min(first, frames.size())));
    if (frames.size() > kTooltipFrames) frames.resize(kTooltipFrames);
    lanes.stacks.emplace(bar.stack, std::move(frames));
  }
  return lanes;
}

}  // namespace

LayersPage::LayersPage(QWidget* parent)
    : Page(parent),
      proxy_(new QSortFilterProxyModel(this)),
      view_(new QTreeView(this)),
      tree_(new QCheckBox(tr("Tree"), this)),
      measures_(new QComboBox(this)),
      step_(new QComboBox(this)),
      memory_(new QComboBox(this)),
      filter_(new QLabel(this)),
      whole_run_(new QPushButton(tr("Whole run"), this)),
      lanes_title_(new QLabel(this)),
      lanes_(new LifetimeLanes(this)),
      error_(new QLabel(this)) {
  tree_->setObjectName(QStringLiteral("layersTree"));
  tree_->setChecked(true);
  tree_->setToolTip(tr("Scopes under their parents (subtree totals), or a flat list"));
  measures_->setObjectName(QStringLiteral("layersMeasures"));
  measures_->addItem(tr("Subtree totals"));
  measures_->addItem(tr("Own numbers"));
  step_->setObjectName(QStringLiteral("layersStep"));
  step_->setToolTip(tr("Count only the blocks allocated during one training step"));
  memory_->setObjectName(QStringLiteral("layersMemory"));
  memory_->setToolTip(tr("Count only the blocks in host memory or on one GPU"));
  whole_run_->setObjectName(QStringLiteral("layersWholeRun"));
  whole_run_->setToolTip(tr("Clear the time range selected on the timeline"));
  error_->setStyleSheet(QStringLiteral("color: #b00020"));
  error_->hide();

  proxy_->setSourceModel(&model_);
  proxy_->setSortRole(LayerModel::kSortRole);
  proxy_->setSortCaseSensitivity(Qt::CaseInsensitive);
  view_->setObjectName(QStringLiteral("layersView"));
  view_->setModel(proxy_);
  view_->setSortingEnabled(true);
  view_->sortByColumn(-1, Qt::AscendingOrder);  // the trace's order until a header is clicked
  view_->setUniformRowHeights(true);
  view_->setAlternatingRowColors(true);
  view_->header()->setSectionResizeMode(QHeaderView::Interactive);
  view_->header()->setStretchLastSection(false);
  view_->setColumnWidth(LayerModel::kScope, 260);
  installTableCopy(view_);

  auto* controls = new QHBoxLayout;
  controls->addWidget(tree_);
  controls->addWidget(measures_);
  controls->addSpacing(12);
  controls->addWidget(new QLabel(tr("Step:"), this));
  controls->addWidget(step_);
  controls->addSpacing(12);
  controls->addWidget(new QLabel(tr("Memory:"), this));
  controls->addWidget(memory_);
  controls->addSpacing(12);
  controls->addWidget(filter_, 1);
  controls->addWidget(whole_run_);

  auto* scroll = new QScrollArea(this);
  scroll->setWidget(lanes_);
  scroll->setWidgetResizable(true);
  auto* lanes_box = new QWidget(this);
  auto* lanes_layout = new QVBoxLayout(lanes_box);
  lanes_layout->setContentsMargins(0, 0, 0, 0);
  lanes_layout->addWidget(lanes_title_);
  lanes_layout->addWidget(scroll, 1);
  lanes_->setObjectName(QStringLiteral("layersLanes"));

  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(view_);
  splitter->addWidget(lanes_box);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(error_);
  layout->addWidget(splitter, 1);

  connect(tree_, &QCheckBox::toggled, this, [this](bool tree) {
    // The CLI's pairing: a tree sums subtrees, a flat list shows own numbers.
    measures_->setCurrentIndex(tree ? 0 : 1);
    model_.setView(tree ? LayerModel::View::kTree : LayerModel::View::kFlat);
    if (tree) view_->expandAll();
    if (document_) selectScope(document_->scope());
  });
  connect(measures_, &QComboBox::currentIndexChanged, this, [this](int i) {
    model_.setMeasures(i == 1 ? LayerModel::Measures::kOwn : LayerModel::Measures::kSubtree);
    if (model_.view() == LayerModel::View::kTree) view_->expandAll();
    if (document_) selectScope(document_->scope());
  });
  connect(step_, &QComboBox::currentIndexChanged, this, [this] {
    refreshTable();
    refreshLanes();
  });
  connect(memory_, &QComboBox::currentIndexChanged, this, &LayersPage::refreshTable);
  connect(whole_run_, &QPushButton::clicked, this, [this] {
    if (document_) document_->clearTimeRange();
  });
  connect(view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          &LayersPage::rowSelected);
  connect(lanes_, &LifetimeLanes::barClicked, this, [this](const QString& path) {
    if (document_) document_->setScope(path);
  });
  setDocuments({}, nullptr);
}

void LayersPage::setDocuments(const QList<TraceDocument*>&, TraceDocument* current) {
  if (current == document_ && current) return;
  if (document_) disconnect(document_, nullptr, this, nullptr);
  document_ = current;
  table_job_.cancel();
  lanes_job_.cancel();
  {
    const QSignalBlocker block(step_);
    step_->clear();
    step_->addItem(tr("All steps"));
    if (current)
      for (const analysis::StepPeak& s : current->overview().peak.steps)
        step_->addItem(s.step < 0 ? tr("Before the first step") : tr("Step %1").arg(s.step),
                       QVariant::fromValue<qlonglong>(s.step));
  }
  {
    // The memories the trace has: host, and each GPU that held memory.
    const QSignalBlocker block(memory_);
    memory_->clear();
    memory_->addItem(tr("All"));
    memory_->addItem(tr("Host"), QVariant::fromValue<qlonglong>(analysis::kHostMemory));
    if (current)
      for (const analysis::PeakSnapshot& device : current->overview().peak.devices)
        if (const auto id = analysis::parse_memory_name(device.measure))
          memory_->addItem(QString::fromStdString(device.measure),
                           QVariant::fromValue<qlonglong>(*id));
  }
  if (current) {
    connect(current, &TraceDocument::timeRangeChanged, this, &LayersPage::refreshTable);
    connect(current, &TraceDocument::scopeChanged, this,
            [this] { selectScope(document_->scope()); });
  }
  refreshTable();
  refreshLanes();
}

std::optional<int64_t> LayersPage::step() const {
  const QVariant data = step_->currentData();
  if (!data.isValid()) return std::nullopt;
  return data.toLongLong();
}

void LayersPage::setStep(std::optional<int64_t> step) {
  int index = 0;
  if (step) index = step_->findData(QVariant::fromValue<qlonglong>(*step));
  step_->setCurrentIndex(std::max(0, index));
}

void LayersPage::setTreeView(bool tree) {
  tree_->setChecked(tree);
}

int64_t LayersPage::lanesStep() const {
  if (const auto chosen = step(); chosen) return *chosen;
  if (!document_) return -1;
  // As the HTML report: the step of the peak, else the second step (the
  // first often carries one-time set-up).
  const analysis::PeakReport& peak = document_->overview().peak;
  const int64_t at_peak =
      peak.total.moment.bytes > 0 ? peak.total.moment.step : peak.host.moment.step;
  return at_peak >= 0 ? at_peak : 1;
}

void LayersPage::showFilter() {
  QString text;
  if (document_) {
    const uint64_t start = document_->overview().start_ns();
    if (const auto range = document_->timeRange())
      text = tr("Blocks allocated from %1 to %2")
                 .arg(formatOffset(range->start_ns, start), formatOffset(range->end_ns, start));
    else
      text = tr("Blocks allocated during the whole run");
    if (const auto s = step())
      text += s < 0 ? tr(", before the first step") : tr(", in step %1").arg(*s);
    if (memory_->currentData().isValid()) text += tr(", in %1 memory").arg(memory_->currentText());
  }
  filter_->setText(text);
  whole_run_->setEnabled(document_ && document_->timeRange());
}

void LayersPage::refreshTable() {
  showFilter();
  error_->hide();
  if (!document_) {
    table_job_.cancel();
    model_.setLayers(nullptr);
    return;
  }
  const std::optional<TimeRange> range = document_->timeRange();
  const std::optional<int64_t> chosen = step();
  const QVariant memory = memory_->currentData();
  const std::optional<int64_t> device =
      memory.isValid() ? std::optional<int64_t>(memory.toLongLong()) : std::nullopt;
  if (!range && !chosen && !device) {
    // What the loader computed: the whole run, no step.
    table_job_.cancel();
    const auto overview = document_->sharedOverview();
    model_.setLayers(std::shared_ptr<const analysis::ScopeLifetimes>(overview, &overview->layers));
    if (model_.view() == LayerModel::View::kTree) view_->expandAll();
    selectScope(document_->scope());
    return;
  }
  analysis::ScopeLifetimesOptions options;
  options.step = chosen;
  options.device = device;
  if (range) {
    options.from_ns = range->start_ns;
    options.to_ns = range->end_ns;
  }
  const std::string path = document_->overview().path;
  table_job_.start<analysis::ScopeLifetimes>(
      this,
      [path, options](analysis::ScanControl& control) {
        analysis::TraceFile trace(path);
        trace.set_scan_control(&control);
        return analysis::scope_lifetimes(trace, options);
      },
      [this](std::shared_ptr<const analysis::ScopeLifetimes> layers) {
        model_.setLayers(std::move(layers));
        if (model_.view() == LayerModel::View::kTree) view_->expandAll();
        if (document_) selectScope(document_->scope());
      },
      [this](const QString& message) {
        error_->setText(message);
        error_->show();
      });
}

void LayersPage::refreshLanes() {
  if (!document_) {
    lanes_job_.cancel();
    lanes_->setLanes(nullptr, 0);
    lanes_title_->clear();
    return;
  }
  const int64_t lanes_step = lanesStep();
  lanes_title_->setText(
      step() ? tr("Lifetimes of the blocks allocated in step %1").arg(lanes_step)
             : tr("Lifetimes of the blocks allocated in step %1 (the step of the peak; pick a "
                  "step above for another)")
                   .arg(lanes_step));
  const std::string path = document_->overview().path;
  const uint64_t start = document_->overview().start_ns();
  lanes_job_.start<StepLanes>(
      this,
      [path, lanes_step](analysis::ScanControl& control) {
        return computeLanes(path, lanes_step, control);
      },
      [this, start, lanes_step](std::shared_ptr<const StepLanes> lanes) {
        if (lanes->gantt.bars_left_out)
          lanes_title_->setText(lanes_title_->text() +
                                tr(" — the %1 largest shown, %2 smaller left out")
                                    .arg(formatCount(lanes->gantt.bars.size()),
                                         formatCount(lanes->gantt.bars_left_out)));
        else if (lanes->gantt.bars.empty())
          lanes_title_->setText(tr("No block was allocated in step %1").arg(lanes_step));
        lanes_->setLanes(std::move(lanes), start);
      },
      [this](const QString& message) {
        error_->setText(message);
        error_->show();
      });
}

void LayersPage::selectScope(const QString& path) {
  const QModelIndex source = model_.indexOfPath(path);
  const QModelIndex index = proxy_->mapFromSource(source);
  if (path.isEmpty() || !index.isValid()) {
    if (path.isEmpty()) view_->selectionModel()->clearSelection();
    return;
  }
  if (view_->currentIndex().siblingAtColumn(0) != index) {
    const QSignalBlocker block(view_->selectionModel());
    view_->selectionModel()->setCurrentIndex(
        index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  }
  view_->scrollTo(index);
}

void LayersPage::rowSelected() {
  if (!document_) return;
  const QModelIndex current = view_->currentIndex();
  if (!current.isValid()) return;
  document_->setScope(current.siblingAtColumn(0).data(LayerModel::kPathRole).toString());
}

void LayersPage::reveal(const QUrlQuery& query) {
  if (query.hasQueryItem(QStringLiteral("step"))) {
    bool ok = false;
    const qlonglong s = query.queryItemValue(QStringLiteral("step")).toLongLong(&ok);
    setStep(ok ? std::optional<int64_t>(s) : std::nullopt);
  }
  if (query.hasQueryItem(QStringLiteral("scope"))) {
    const QString path = query.queryItemValue(QStringLiteral("scope"), QUrl::FullyDecoded);
    if (document_) document_->setScope(path);
    selectScope(path);
  }
}

}  // namespace memtide::gui
