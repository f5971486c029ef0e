#include "pages/compare_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "core/table_copy.h"
#include "core/trace_document.h"
#include "widgets/overlay_chart.h"

namespace memtide::gui {
namespace {

// Hides the scopes whose numbers are the same in both runs, when asked.
class ChangedOnlyFilter : public QSortFilterProxyModel {
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;
  void setChangedOnly(bool on) {
    changed_only_ = on;
    invalidateFilter();
  }

 protected:
  bool filterAcceptsRow(int row, const QModelIndex& parent) const override {
    if (!changed_only_ || parent.isValid()) return true;
    auto* model = static_cast<const ScopeCompareModel*>(sourceModel());
    return model->change(row).changed();
  }

 private:
  bool changed_only_ = false;
};

QTableView* makeTable(QAbstractItemModel* model, const QString& name) {
  auto* view = new QTableView;
  view->setObjectName(name);
  view->setModel(model);
  view->setSelectionBehavior(QAbstractItemView::SelectRows);
  view->verticalHeader()->hide();
  view->horizontalHeader()->setStretchLastSection(false);
  view->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  installTableCopy(view);
  return view;
}

}  // namespace

ComparePage::ComparePage(QWidget* parent)
    : Page(parent),
      base_combo_(new QComboBox),
      candidate_combo_(new QComboBox),
      changed_only_(new QCheckBox(tr("Changed layers only"))),
      status_(new QLabel),
      chart_(new OverlayChart) {
  base_combo_->setObjectName(QStringLiteral("compareBase"));
  candidate_combo_->setObjectName(QStringLiteral("compareNew"));
  auto* open = new QPushButton(tr("Open a trace to compare..."));
  connect(open, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Trace to compare"), {},
                                                      tr("memtide traces (*.db);;All files (*)"));
    if (path.isEmpty()) return;
    wanted_candidate_ = path;
    emit linkActivated(pageLink(QStringLiteral("open"), QStringLiteral("path"), path));
  });
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Base:")));
  bar->addWidget(base_combo_, 1);
  bar->addWidget(new QLabel(tr("New:")));
  bar->addWidget(candidate_combo_, 1);
  bar->addWidget(open);
  bar->addWidget(changed_only_);

  auto* proxy = new ChangedOnlyFilter(this);
  proxy->setSourceModel(&layers_);
  proxy->setSortRole(ScopeCompareModel::kSortRole);
  layer_proxy_ = proxy;
  diff_view_ = makeTable(&diff_, QStringLiteral("compareDiff"));
  layer_view_ = makeTable(layer_proxy_, QStringLiteral("compareLayers"));
  layer_view_->setSortingEnabled(true);
  layer_view_->sortByColumn(ScopeCompareModel::kPeakDelta, Qt::DescendingOrder);

  auto* splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(chart_);
  splitter->addWidget(diff_view_);
  splitter->addWidget(layer_view_);
  splitter->setSizes({260, 160, 400});
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(status_);
  layout->addWidget(splitter, 1);

  connect(base_combo_, &QComboBox::currentIndexChanged, this, &ComparePage::comboChanged);
  connect(candidate_combo_, &QComboBox::currentIndexChanged, this, &ComparePage::comboChanged);
  connect(changed_only_, &QCheckBox::toggled, this,
          [proxy](bool on) { proxy->setChangedOnly(on); });
  compare();
}

void ComparePage::setDocuments(const QList<TraceDocument*>& all, TraceDocument* current) {
  documents_ = all;
  if (documents_.size() < 2) {
    setPair(nullptr, nullptr);
    return;
  }
  TraceDocument* base = documents_.contains(base_) ? base_ : nullptr;
  TraceDocument* candidate = documents_.contains(candidate_) ? candidate_ : nullptr;
  // A trace opened from this page becomes the new run once it is loaded.
  for (TraceDocument* d : documents_)
    if (!wanted_candidate_.isEmpty() && d->path() == wanted_candidate_) {
      candidate = d;
      wanted_candidate_.clear();
      if (base == d) base = nullptr;
    }
  // Otherwise: the current trace against the first other one.
  if (!candidate && current && current != base) candidate = current;
  for (TraceDocument* d : documents_) {
    if (!base && d != candidate) base = d;
    if (!candidate && d != base) candidate = d;
  }
  setPair(base, candidate);
}

void ComparePage::fillCombos() {
  // Filling them is not the user choosing: no comboChanged.
  const QSignalBlocker block_base(base_combo_), block_candidate(candidate_combo_);
  for (QComboBox* combo : {base_combo_, candidate_combo_}) {
    combo->clear();
    for (TraceDocument* d : documents_) combo->addItem(d->displayName(), d->path());
  }
  base_combo_->setCurrentIndex(int(documents_.indexOf(base_)));
  candidate_combo_->setCurrentIndex(int(documents_.indexOf(candidate_)));
}

void ComparePage::comboChanged() {
  const int b = base_combo_->currentIndex(), c = candidate_combo_->currentIndex();
  setPair(b >= 0 && b < documents_.size() ? documents_[b] : nullptr,
          c >= 0 && c < documents_.size() ? documents_[c] : nullptr);
}

void ComparePage::reveal(const QUrlQuery& query) {
  TraceDocument* base = base_;
  TraceDocument* candidate = candidate_;
  for (TraceDocument* d : documents_) {
    if (d->path() == query.queryItemValue(QStringLiteral("base"), QUrl::FullyDecoded)) base = d;
    if (d->path() == query.queryItemValue(QStringLiteral("new"), QUrl::FullyDecoded)) candidate = d;
  }
  setPair(base, candidate);
}

void ComparePage::setPair(TraceDocument* base, TraceDocument* candidate) {
  const bool changed = base != base_ || candidate != candidate_;
  base_ = base;
  candidate_ = candidate;
  fillCombos();
  if (changed || !base_ || !candidate_) compare();
}

void ComparePage::compare() {
  diff_job_.cancel();
  diff_.setDiff(nullptr);
  if (!base_ || !candidate_ || base_ == candidate_) {
    layers_.setChanges({});
    chart_->setSeries({});
    status_->setText(documents_.size() < 2
                         ? tr("Open a second trace to compare (File > Open, or the button above).")
                         : tr("Choose two different traces."));
    return;
  }
  const TraceOverview& b = base_->overview();
  const TraceOverview& c = candidate_->overview();
  layers_.setChanges(analysis::compare_scopes(b.layers, c.layers));
  std::vector<OverlayChart::Series> series;
  if (b.process())
    series.push_back({tr("base: %1").arg(base_->displayName()), QColor(0x44, 0x77, 0xaa),
                      b.start_ns(), b.process()->timeline});
  if (c.process())
    series.push_back({tr("new: %1").arg(candidate_->displayName()), QColor(0xcc, 0x66, 0x22),
                      c.start_ns(), c.process()->timeline});
  chart_->setSeries(std::move(series));
  status_->setText(tr("Comparing..."));
  const std::string base_path = b.path, candidate_path = c.path;
  diff_job_.start<analysis::RunDiff>(
      this,
      [base_path, candidate_path](analysis::ScanControl&) {
        return analysis::diff_runs(base_path, candidate_path, {});
      },
      [this](std::shared_ptr<const analysis::RunDiff> diff) {
        diff_.setDiff(std::move(diff));
        status_->setText(tr("%1 layers differ").arg([this] {
          int n = 0;
          for (int row = 0; row < layers_.rowCount(); ++row) n += layers_.change(row).changed();
          return n;
        }()));
      },
      [this](const QString& error) { status_->setText(error); });
}

}  // namespace memtide::gui
