#include "pages/leaks_page.h"

#include <QComboBox>
#include <QDesktopServices>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTreeView>
#include <QUrl>
#include <QVBoxLayout>

#include "core/format.h"
#include "core/table_copy.h"
#include "core/trace_document.h"
#include "memtide/analysis/suppression_rule.h"
#include "widgets/source_view.h"

namespace memtide::gui {

namespace {

constexpr int kCategoryRole = Qt::UserRole + 1;

}  // namespace

LeaksPage::LeaksPage(QWidget* parent)
    : Page(parent),
      categories_(new QListWidget(this)),
      group_by_(new QComboBox(this)),
      proxy_(new QSortFilterProxyModel(this)),
      groups_view_(new QTreeView(this)),
      details_(new QLabel(this)),
      frames_view_(new QTableView(this)),
      source_(new SourceView(this)),
      source_title_(new QLabel(this)),
      open_external_(new QPushButton(tr("Open in Editor"), this)),
      supp_file_(new QLineEdit(this)),
      browse_(new QPushButton(tr("Browse..."), this)),
      suppress_(new QPushButton(tr("Suppress This"), this)),
      status_(new QLabel(this)) {
  categories_->setObjectName(QStringLiteral("leakCategories"));
  categories_->setMaximumWidth(260);
  installTableCopy(categories_);
  group_by_->setObjectName(QStringLiteral("leakGroupBy"));
  group_by_->addItem(tr("Group by stack"));
  group_by_->addItem(tr("Group by scope"));

  proxy_->setSourceModel(&model_);
  proxy_->setSortRole(LeakModel::kSortRole);
  groups_view_->setObjectName(QStringLiteral("leakGroups"));
  groups_view_->setModel(proxy_);
  groups_view_->setSortingEnabled(true);
  groups_view_->sortByColumn(-1, Qt::AscendingOrder);  // the report's order: largest first
  groups_view_->setUniformRowHeights(true);
  groups_view_->setAlternatingRowColors(true);
  groups_view_->setColumnWidth(LeakModel::kCategory, 150);
  groups_view_->setColumnWidth(LeakModel::kScope, 200);
  installTableCopy(groups_view_);

  details_->setWordWrap(true);
  details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  frames_view_->setObjectName(QStringLiteral("leakFrames"));
  frames_view_->setModel(&frames_);
  frames_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  frames_view_->setSelectionMode(QAbstractItemView::SingleSelection);
  frames_view_->verticalHeader()->hide();
  frames_view_->horizontalHeader()->setStretchLastSection(true);
  frames_view_->setColumnWidth(LeakFrameModel::kNumber, 36);
  frames_view_->setColumnWidth(LeakFrameModel::kFunction, 360);
  frames_view_->setColumnWidth(LeakFrameModel::kLocation, 260);
  installTableCopy(frames_view_);
  source_->setObjectName(QStringLiteral("leakSource"));
  open_external_->setEnabled(false);
  supp_file_->setObjectName(QStringLiteral("leakSuppressionsFile"));
  supp_file_->setToolTip(
      tr("Rules are appended to this file; memtide report --suppressions "
         "FILE reads it"));
  suppress_->setObjectName(QStringLiteral("leakSuppress"));
  suppress_->setEnabled(false);
  status_->setObjectName(QStringLiteral("leakStatus"));
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* left = new QWidget(this);
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  left_layout->addWidget(categories_, 1);
  left_layout->addWidget(group_by_);

  auto* source_box = new QWidget(this);
  auto* source_layout = new QVBoxLayout(source_box);
  source_layout->setContentsMargins(0, 0, 0, 0);
  auto* source_bar = new QHBoxLayout;
  source_bar->addWidget(source_title_, 1);
  source_bar->addWidget(open_external_);
  source_layout->addLayout(source_bar);
  source_layout->addWidget(source_, 1);

  auto* frames_and_source = new QSplitter(Qt::Horizontal, this);
  frames_and_source->addWidget(frames_view_);
  frames_and_source->addWidget(source_box);

  auto* suppress_bar = new QHBoxLayout;
  suppress_bar->addWidget(new QLabel(tr("Suppressions file:"), this));
  suppress_bar->addWidget(supp_file_, 1);
  suppress_bar->addWidget(browse_);
  suppress_bar->addWidget(suppress_);

  auto* bottom = new QWidget(this);
  auto* bottom_layout = new QVBoxLayout(bottom);
  bottom_layout->setContentsMargins(0, 0, 0, 0);
  bottom_layout->addWidget(details_);
  bottom_layout->addWidget(frames_and_source, 1);
  bottom_layout->addLayout(suppress_bar);
  bottom_layout->addWidget(status_);

  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(groups_view_);
  right->addWidget(bottom);

  auto* main = new QSplitter(Qt::Horizontal, this);
  main->addWidget(left);
  main->addWidget(right);
  main->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(main);

  connect(categories_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (row >= 0) model_.setCategory(categories_->item(row)->data(kCategoryRole).toString());
    groups_view_->expandAll();
    groupSelected();
  });
  connect(group_by_, &QComboBox::currentIndexChanged, this, [this](int i) {
    model_.setGroupBy(i == 1 ? LeakModel::GroupBy::kScope : LeakModel::GroupBy::kStack);
    groups_view_->expandAll();
    groupSelected();
  });
  connect(groups_view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          &LeaksPage::groupSelected);
  connect(frames_view_, &QTableView::activated, this,
          [this](const QModelIndex& index) { showFrameSource(index.row()); });
  connect(frames_view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& index) {
            if (index.isValid() && index.data(LeakFrameModel::kFileExistsRole).toBool())
              showFrameSource(index.row());
          });
  connect(open_external_, &QPushButton::clicked, this, [this] {
    if (!source_->file().isEmpty()) QDesktopServices::openUrl(QUrl::fromLocalFile(source_->file()));
  });
  connect(browse_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Suppressions File"), suppressionsFile(),
        tr("Suppressions (*.supp);;All files (*)"), nullptr, QFileDialog::DontConfirmOverwrite);
    if (!path.isEmpty()) setSuppressionsFile(path);
  });
  connect(supp_file_, &QLineEdit::editingFinished, this, &LeaksPage::loadSuppressions);
  connect(suppress_, &QPushButton::clicked, this, [this] { suppressSelected(); });
  setDocuments({}, nullptr);
}

void LeaksPage::setDocuments(const QList<TraceDocument*>&, TraceDocument* current) {
  if (current == document_ && current) return;
  document_ = current;
  model_.setOverview(current ? current->sharedOverview() : nullptr);
  supp_file_->setText(
      current ? QFileInfo(current->path()).absoluteDir().filePath(QStringLiteral("memtide.supp"))
              : QString());
  status_->clear();
  loadSuppressions();
  fillCategories();
}

void LeaksPage::fillCategories() {
  const QString keep = model_.category();
  const QSignalBlocker block(categories_);
  categories_->clear();
  auto add = [this](const QString& category, int groups, uint64_t bytes, uint64_t count,
                    bool by_bytes) {
    QString text = leakCategoryTitle(category);
    if (groups)
      text += by_bytes ? QStringLiteral("  %1 in %2").arg(formatBytes(bytes), formatCount(count))
                       : QStringLiteral("  %1").arg(formatCount(count));
    auto* item = new QListWidgetItem(text, categories_);
    item->setData(kCategoryRole, category);
    if (!groups && !category.isEmpty()) item->setForeground(QColor(Qt::gray));
  };
  // "All": every group, counted as groups.
  add(QString(), int(model_.items().size()), 0, model_.items().size(), false);
  for (const QString& category : leakCategories()) {
    int groups = 0;
    uint64_t bytes = 0, count = 0;
    for (const LeakItem& item : model_.items())
      if (item.category == category && !item.suppressed) {
        ++groups;
        bytes += item.bytes;
        count += item.kind == LeakItem::Kind::kGrowth ? 1 : item.blocks;
      }
    add(category, groups, bytes, count, category != "mismatch" && category != "unknown-free");
  }
  // "errors" and "leaks" span several rows: none is current then.
  int row = -1;
  for (int i = 0; i < categories_->count(); ++i)
    if (categories_->item(i)->data(kCategoryRole).toString() == keep) row = i;
  categories_->setCurrentRow(row);
  groups_view_->expandAll();
  groupSelected();
}

void LeaksPage::setCategory(const QString& category) {
  for (int i = 0; i < categories_->count(); ++i)
    if (categories_->item(i)->data(kCategoryRole).toString() == category) {
      categories_->setCurrentRow(i);
      return;
    }
  // "errors" and "leaks" span several rows of the list.
  categories_->setCurrentRow(-1);
  model_.setCategory(category);
  groups_view_->expandAll();
  groupSelected();
}

void LeaksPage::setGroupBy(LeakModel::GroupBy group_by) {
  group_by_->setCurrentIndex(group_by == LeakModel::GroupBy::kScope ? 1 : 0);
}

void LeaksPage::groupSelected() {
  const LeakItem* item = model_.itemAt(proxy_->mapToSource(groups_view_->currentIndex()));
  suppress_->setEnabled(item != nullptr);
  frames_.setFrames(item ? item->frames : std::vector<analysis::ReportFrame>{});
  source_->clearFile();
  source_title_->clear();
  open_external_->setEnabled(false);
  if (!item) {
    details_->clear();
    return;
  }
  QString text = leakCategoryTitle(item->category);
  switch (item->kind) {
    case LeakItem::Kind::kLeak:
      text += tr(": %1 in %2 blocks").arg(formatBytes(item->bytes), formatCount(item->blocks));
      break;
    case LeakItem::Kind::kError:
      text += tr(": %1, %2 times").arg(item->detail, formatCount(item->blocks));
      break;
    case LeakItem::Kind::kGrowth:
      text += tr(": %1 more live per step over %2 steps, %3 live at the end")
                  .arg(formatBytes(item->bytes_per_step), formatCount(item->steps),
                       formatBytes(item->bytes));
      break;
  }
  if (!item->scope.isEmpty()) text += tr(", allocated in %1").arg(item->scope);
  if (!item->device.isEmpty() && item->device != "host") text += tr(", on %1").arg(item->device);
  if (item->suppressed) text += tr(" (suppressed)");
  details_->setText(text);
  // The program's own innermost frame is where to look first.
  const int first = std::max(0, frames_.identifyingRow());
  if (frames_.rowCount() > 0) frames_view_->selectRow(first);
}

bool LeaksPage::showFrameSource(int row) {
  const QModelIndex index = frames_.index(row, 0);
  if (!index.isValid()) return false;
  const QString file = index.data(LeakFrameModel::kFileRole).toString();
  const int line = index.data(LeakFrameModel::kLineRole).toInt();
  if (!index.data(LeakFrameModel::kFileExistsRole).toBool()) {
    source_->clearFile();
    source_title_->setText(file.isEmpty() ? tr("No source file recorded for this frame")
                                          : tr("%1 is not on this machine").arg(file));
    open_external_->setEnabled(false);
    return false;
  }
  const bool shown = source_->showFile(file, line);
  source_title_->setText(QStringLiteral("%1:%2").arg(file).arg(line));
  open_external_->setEnabled(shown);
  return shown;
}

QString LeaksPage::suppressionsFile() const {
  return supp_file_->text().trimmed();
}

void LeaksPage::setSuppressionsFile(const QString& path) {
  supp_file_->setText(path);
  loadSuppressions();
}

// Marks the groups the file's rules match, beside those the report
// suppressed; a file that does not exist yet has no rules.
void LeaksPage::loadSuppressions() {
  analysis::Suppressions rules;
  const QString path = suppressionsFile();
  if (!path.isEmpty() && QFileInfo::exists(path)) {
    try {
      rules = analysis::Suppressions::load(path.toStdString());
    } catch (const std::exception& error) {
      status_->setText(QString::fromStdString(error.what()));
    }
  }
  const LeakItem* selected = model_.itemAt(proxy_->mapToSource(groups_view_->currentIndex()));
  const int selected_item = selected ? int(selected - model_.items().data()) : -1;
  model_.setSuppressions(rules);
  fillCategories();
  if (selected_item >= 0) {
    const QModelIndex index = proxy_->mapFromSource(model_.indexOfItem(selected_item));
    if (index.isValid()) {
      groups_view_->setCurrentIndex(index);
      groups_view_->scrollTo(index);
    }
  }
}

QString LeaksPage::suppressSelected() {
  const LeakItem* item = model_.itemAt(proxy_->mapToSource(groups_view_->currentIndex()));
  if (!item) return {};
  const auto rule = analysis::suppression_rule_for(item->category.toStdString(), item->frames);
  if (!rule) {
    status_->setText(tr("No frame of this group is the program's own: nothing to name in a rule"));
    return {};
  }
  const QString path = suppressionsFile();
  if (path.isEmpty()) {
    status_->setText(tr("Choose a suppressions file first"));
    return {};
  }
  QFile file(path);
  // Appended after the rules already there, on a line of its own.
  bool needs_newline = false;
  if (file.open(QIODevice::ReadOnly)) {
    if (file.size() > 0) {
      file.seek(file.size() - 1);
      needs_newline = file.read(1) != "\n";
    }
    file.close();
  }
  if (!file.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Text)) {
    status_->setText(tr("Cannot write %1: %2").arg(path, file.errorString()));
    return {};
  }
  const QString text = QString::fromStdString(*rule);
  const QByteArray line = (needs_newline ? QByteArray("\n") : QByteArray()) + text.toUtf8() + '\n';
  if (file.write(line) != line.size()) {
    status_->setText(tr("Cannot write %1: %2").arg(path, file.errorString()));
    return {};
  }
  file.close();
  loadSuppressions();
  status_->setText(tr("Added %1 to %2").arg(text, path));
  return text;
}

void LeaksPage::reveal(const QUrlQuery& query) {
  if (query.hasQueryItem(QStringLiteral("category")))
    setCategory(query.queryItemValue(QStringLiteral("category")));
}

}  // namespace memtide::gui
