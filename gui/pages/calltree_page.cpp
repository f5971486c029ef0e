#include "pages/calltree_page.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTreeView>
#include <QVBoxLayout>

#include "core/format.h"
#include "core/table_copy.h"
#include "core/trace_document.h"
#include "widgets/flame_graph.h"

namespace memtide::gui {

namespace {

using analysis::StackMeasure;

constexpr StackMeasure kMeasures[] = {StackMeasure::kPeakBytes, StackMeasure::kAllocatedBytes,
                                      StackMeasure::kAllocations, StackMeasure::kLeakedBytes,
                                      StackMeasure::kTemporaries};

QString measureTitle(StackMeasure m) {
  switch (m) {
    case StackMeasure::kPeakBytes:
      return QObject::tr("Peak (live bytes)");
    case StackMeasure::kAllocatedBytes:
      return QObject::tr("Allocated bytes");
    case StackMeasure::kAllocations:
      return QObject::tr("Allocations");
    case StackMeasure::kLeakedBytes:
      return QObject::tr("Leaked (live at exit)");
    case StackMeasure::kTemporaries:
      return QObject::tr("Temporaries");
  }
  return {};
}

const char* const kCategories[] = {"definite", "indirect", "possible", "reachable", "not-freed"};

// Keeps a row whose function matches, its ancestors (recursive filtering)
// and everything under it (so a match can still be opened).
QSortFilterProxyModel* makeProxy(QObject* parent, CallTreeModel* source) {
  auto* proxy = new QSortFilterProxyModel(parent);
  proxy->setSourceModel(source);
  proxy->setSortRole(CallTreeModel::kSortRole);
  proxy->setFilterKeyColumn(CallTreeModel::kFunction);
  proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
  proxy->setRecursiveFilteringEnabled(true);
  proxy->setAutoAcceptChildRows(true);
  return proxy;
}

// Which nodes' functions contain `text` (case-insensitive); empty for no search.
std::vector<bool> matchNodes(const analysis::CallTree* tree, const QString& text) {
  std::vector<bool> out;
  if (!tree || text.isEmpty()) return out;
  out.resize(tree->nodes.size());
  for (size_t i = 0; i < tree->nodes.size(); ++i)
    out[i] = QString::fromStdString(tree->nodes[i].label).contains(text, Qt::CaseInsensitive);
  return out;
}

// Opens the ancestors of the first matches, so that each is in view.
void expandMatches(QTreeView* view, QSortFilterProxyModel* proxy, const CallTreeModel& model,
                   const std::vector<bool>& matches) {
  view->collapseAll();
  constexpr int kMaxExpanded = 500;  // a search for "a" should not open everything
  int expanded = 0;
  for (size_t node = 0; node < matches.size() && expanded < kMaxExpanded; ++node) {
    if (!matches[node]) continue;
    ++expanded;
    for (QModelIndex up = proxy->mapFromSource(model.indexOfNode(uint32_t(node))).parent();
         up.isValid() && !view->isExpanded(up); up = up.parent())
      view->expand(up);
  }
}

}  // namespace

CalltreePage::CalltreePage(QWidget* parent)
    : Page(parent),
      top_down_proxy_(makeProxy(this, &top_down_)),
      bottom_up_proxy_(makeProxy(this, &bottom_up_)),
      measure_(new QComboBox(this)),
      category_(new QComboBox(this)),
      search_(new QLineEdit(this)),
      status_(new QLabel(this)),
      views_(new QTabWidget(this)),
      flame_(new FlameGraph) {
  for (StackMeasure m : kMeasures)
    measure_->addItem(measureTitle(m), QString::fromLatin1(analysis::stack_measure_name(m)));
  measure_->setObjectName(QStringLiteral("calltreeMeasure"));
  category_->addItem(tr("Every category"), QString());
  for (const char* c : kCategories)
    category_->addItem(QString::fromLatin1(c), QString::fromLatin1(c));
  category_->setObjectName(QStringLiteral("calltreeCategory"));
  category_->setVisible(false);
  search_->setPlaceholderText(tr("Search functions"));
  search_->setClearButtonEnabled(true);
  search_->setObjectName(QStringLiteral("calltreeSearch"));
  status_->setObjectName(QStringLiteral("calltreeStatus"));
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Measure:"), this));
  bar->addWidget(measure_);
  bar->addWidget(category_);
  bar->addWidget(search_, 1);

  top_down_view_ = makeTree(&top_down_, top_down_proxy_);
  top_down_view_->setObjectName(QStringLiteral("calltreeTopDown"));
  bottom_up_view_ = makeTree(&bottom_up_, bottom_up_proxy_);
  bottom_up_view_->setObjectName(QStringLiteral("calltreeBottomUp"));
  auto* scroll = new QScrollArea;
  scroll->setWidget(flame_);
  scroll->setWidgetResizable(true);
  flame_->setObjectName(QStringLiteral("calltreeFlameGraph"));
  views_->addTab(top_down_view_, tr("Top-down"));
  views_->addTab(bottom_up_view_, tr("Bottom-up"));
  views_->addTab(scroll, tr("Flame graph"));

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(status_);
  layout->addWidget(views_, 1);

  connect(measure_, &QComboBox::currentIndexChanged, this, [this] {
    category_->setVisible(measure() == StackMeasure::kLeakedBytes);
    requery();
  });
  connect(category_, &QComboBox::currentIndexChanged, this, [this] { requery(); });
  connect(search_, &QLineEdit::textChanged, this, [this] { applySearch(); });
  measure_->setCurrentIndex(0);
  updateStatus();
}

QTreeView* CalltreePage::makeTree(CallTreeModel* model, QSortFilterProxyModel* proxy) {
  Q_UNUSED(model);
  auto* view = new QTreeView;
  view->setModel(proxy);
  view->setSortingEnabled(true);
  view->sortByColumn(CallTreeModel::kInclusive, Qt::DescendingOrder);
  view->setUniformRowHeights(true);
  view->setAlternatingRowColors(true);
  view->setSelectionMode(QAbstractItemView::ExtendedSelection);
  view->header()->setStretchLastSection(false);
  view->header()->setSectionResizeMode(CallTreeModel::kFunction, QHeaderView::Stretch);
  installTableCopy(view);
  return view;
}

StackMeasure CalltreePage::measure() const {
  StackMeasure m = StackMeasure::kPeakBytes;
  analysis::parse_stack_measure(measure_->currentData().toString().toStdString(), m);
  return m;
}

void CalltreePage::setMeasure(StackMeasure m) {
  measure_->setCurrentIndex(
      measure_->findData(QString::fromLatin1(analysis::stack_measure_name(m))));
}

void CalltreePage::setDocuments(const QList<TraceDocument*>&, TraceDocument* current) {
  if (current == document_) return;
  for (const auto& c : connections_) disconnect(c);
  connections_.clear();
  document_ = current;
  if (document_) {
    connections_ << connect(document_, &TraceDocument::timeRangeChanged, this,
                            &CalltreePage::requery)
                 << connect(document_, &TraceDocument::scopeChanged, this, &CalltreePage::requery);
  }
  requery();
}

void CalltreePage::reveal(const QUrlQuery& query) {
  if (query.hasQueryItem("measure")) {
    StackMeasure m;
    if (analysis::parse_stack_measure(query.queryItemValue("measure").toStdString(), m))
      setMeasure(m);
  }
  if (query.hasQueryItem("category")) {
    const int i = category_->findData(query.queryItemValue("category"));
    if (i >= 0) category_->setCurrentIndex(i);
  }
  if (query.hasQueryItem("view")) {
    const QString view = query.queryItemValue("view");
    views_->setCurrentIndex(view == "bottom-up" ? 1 : view == "flame" ? 2 : 0);
  }
  if (query.hasQueryItem("function")) search_->setText(query.queryItemValue("function"));
}

QWidget* CalltreePage::exportTarget() {
  return views_->currentIndex() == 2 ? static_cast<QWidget*>(flame_) : views_->currentWidget();
}

void CalltreePage::requery() {
  error_.clear();
  if (!document_) {
    job_.cancel();
    showData(nullptr);
    return;
  }
  analysis::StackTreeOptions options;
  options.measure = measure();
  if (options.measure == StackMeasure::kLeakedBytes)
    options.leak_category = category_->currentData().toString().toStdString();
  if (const auto range = document_->timeRange()) {
    options.has_time_range = true;
    options.start_ns = range->start_ns;
    options.end_ns = range->end_ns;
  }
  options.scope = document_->scope().toStdString();
  const std::string path = document_->path().toStdString();
  job_.start<CallTreeData>(
      this,
      [path, options](analysis::ScanControl& control) {
        analysis::TraceFile trace(path);
        trace.set_scan_control(&control);
        CallTreeData data;
        data.trees = analysis::build_stack_trees(trace, options);
        data.flame = layoutFlameGraph(data.trees.top_down);
        return data;
      },
      [this](std::shared_ptr<const CallTreeData> data) { showData(std::move(data)); },
      [this](const QString& error) {
        error_ = error;
        showData(nullptr);
      });
  updateStatus();
}

void CalltreePage::showData(std::shared_ptr<const CallTreeData> data) {
  data_ = std::move(data);
  const StackMeasure m = data_ ? data_->trees.options.measure : measure();
  // The models share the answer's lifetime (aliasing pointers).
  top_down_.setTree(
      data_ ? std::shared_ptr<const analysis::CallTree>(data_, &data_->trees.top_down) : nullptr,
      m);
  bottom_up_.setTree(
      data_ ? std::shared_ptr<const analysis::CallTree>(data_, &data_->trees.bottom_up) : nullptr,
      m);
  flame_->setData(
      data_ ? std::shared_ptr<const analysis::CallTree>(data_, &data_->trees.top_down) : nullptr,
      data_ ? std::shared_ptr<const FlameLayout>(data_, &data_->flame) : nullptr, m);
  applySearch();
  updateStatus();
}

void CalltreePage::applySearch() {
  const QString text = search_->text().trimmed();
  top_down_proxy_->setFilterFixedString(text);
  bottom_up_proxy_->setFilterFixedString(text);
  flame_->setMatches(matchNodes(top_down_.tree(), text));
  if (text.isEmpty()) return;
  expandMatches(top_down_view_, top_down_proxy_, top_down_, matchNodes(top_down_.tree(), text));
  expandMatches(bottom_up_view_, bottom_up_proxy_, bottom_up_, matchNodes(bottom_up_.tree(), text));
}

void CalltreePage::updateStatus() {
  if (!document_) {
    status_->setText(tr("No trace open."));
    return;
  }
  if (!error_.isEmpty()) {
    status_->setText(tr("Could not build the call trees: %1").arg(error_));
    return;
  }
  if (busy() || !data_) {
    status_->setText(tr("Building the call trees…"));
    return;
  }
  const analysis::StackTrees& t = data_->trees;
  const StackMeasure m = t.options.measure;
  const uint64_t start = document_->overview().start_ns();
  QString text = QStringLiteral("<b>%1</b>: %2 from %3 stacks")
                     .arg(measureTitle(m), formatMeasure(m, t.weights.total),
                          formatCount(t.weights.stacks.size()));
  if (m == StackMeasure::kPeakBytes && t.weights.peak_time_ns)
    text += tr(", at %1").arg(formatOffset(t.weights.peak_time_ns, start));
  if (m == StackMeasure::kLeakedBytes && !t.weights.leak_scan_done)
    text += tr(" (the exit scan did not run: every live block is \"not freed\")");
  if (t.options.has_time_range)
    text +=
        tr("; %1 %2 to %3")
            .arg(m == StackMeasure::kPeakBytes ? tr("the highest point from")
                                               : tr("blocks allocated from"),
                 formatOffset(t.options.start_ns, start), formatOffset(t.options.end_ns, start));
  if (!t.options.scope.empty())
    text += tr("; scope %1").arg(QString::fromStdString(t.options.scope).toHtmlEscaped());
  if (!t.missing_modules.empty())
    text += tr("; %1 binaries not found (frames as module+offset)").arg(t.missing_modules.size());
  status_->setText(text);
}

}  // namespace memtide::gui
