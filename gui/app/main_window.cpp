#include "app/main_window.h"

#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "app/page_list.h"
#include "core/recent_files.h"
#include "core/trace_document.h"
#include "core/view_export.h"
#include "memtide/analysis/report_builder.h"
#include "pages/page.h"

namespace memtide::gui {

MainWindow::MainWindow(LoadOptions options, QWidget* parent)
    : QMainWindow(parent),
      options_(std::move(options)),
      tabs_(new QTabWidget),
      trace_list_(new QListWidget),
      banner_(new QLabel),
      progress_(new QProgressBar),
      cancel_(new QPushButton(tr("Cancel"))),
      status_(new QLabel) {
  setWindowTitle(QStringLiteral("memtide"));
  setAcceptDrops(true);
  resize(1280, 800);

  banner_->setObjectName(QStringLiteral("errorBanner"));
  banner_->setWordWrap(true);
  banner_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  banner_->setStyleSheet(QStringLiteral(
      "QLabel { background: #fde7e9; color: #7a0014; padding: 6px; border: 1px solid #e8a0a8; }"));
  banner_->hide();

  trace_list_->setObjectName(QStringLiteral("traceList"));
  trace_list_->setToolTip(tr("Open traces; select one to show it"));
  connect(trace_list_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (row >= 0 && row < documents_.size()) setCurrentDocument(documents_[row]);
  });

  tabs_->setObjectName(QStringLiteral("pages"));
  tabs_->setDocumentMode(true);
  pages_ = createPages(tabs_);
  for (Page* page : pages_) {
    page->setObjectName(page->key() + QStringLiteral("Page"));
    tabs_->addTab(page, page->title());
    connect(page, &Page::linkActivated, this, &MainWindow::openLink);
  }

  auto* right = new QWidget;
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  right_layout->addWidget(banner_);
  right_layout->addWidget(tabs_, 1);
  auto* splitter = new QSplitter;
  splitter->addWidget(trace_list_);
  splitter->addWidget(right);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({220, 1060});
  setCentralWidget(splitter);

  progress_->setRange(0, 100);
  progress_->setMaximumWidth(220);
  progress_->hide();
  cancel_->setObjectName(QStringLiteral("cancelLoad"));
  cancel_->hide();
  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_);
  connect(cancel_, &QPushButton::clicked, this, [this] {
    queue_.clear();
    loader_.cancel();
  });

  connect(&loader_, &TraceLoader::progress, this, [this](int percent, const QString& stage) {
    progress_->setValue(percent);
    status_->setText(stage);
  });
  connect(&loader_, &TraceLoader::loaded, this, &MainWindow::onLoaded);
  connect(&loader_, &TraceLoader::failed, this, [this](const QString& path, const QString& error) {
    showError(error);
    emit loadFailed(path, error);
    loadNext();
  });
  connect(&loader_, &TraceLoader::cancelled, this, [this](const QString& path) {
    status_->setText(tr("Cancelled loading %1").arg(path));
    progress_->hide();
    cancel_->hide();
  });

  buildMenus();
  refreshPages();
}

MainWindow::~MainWindow() {
  loader_.cancel();
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open..."), QKeySequence::Open, this, [this] {
    const QStringList paths = QFileDialog::getOpenFileNames(
        this, tr("Open traces"), {}, tr("memtide traces (*.db);;All files (*)"));
    openPaths(paths);
  });
  file->addAction(tr("Open &Directory..."), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a run's traces"));
    if (!dir.isEmpty()) openPaths({dir});
  });
  recent_menu_ = file->addMenu(tr("Open &Recent"));
  connect(recent_menu_, &QMenu::aboutToShow, this, &MainWindow::refreshRecentMenu);
  file->addAction(tr("&Close Trace"), QKeySequence::Close, this, &MainWindow::closeCurrentDocument);
  file->addSeparator();
  file->addAction(tr("&Export View..."), QKeySequence(tr("Ctrl+E")), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export view"), {},
                                                      tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (path.isEmpty()) return;
    const QString error = exportCurrentView(path);
    if (!error.isEmpty()) showError(error);
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::closeAllWindows);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  for (int i = 0; i < pages_.size(); ++i) {
    Page* page = pages_[i];
    view->addAction(page->title(), QKeySequence(QStringLiteral("Ctrl+%1").arg(i + 1)), this,
                    [this, page] { tabs_->setCurrentWidget(page); });
  }
}

void MainWindow::refreshRecentMenu() {
  recent_menu_->clear();
  const QStringList recent = recentFiles();
  for (const QString& path : recent)
    recent_menu_->addAction(path, this, [this, path] { openPaths({path}); });
  if (recent.isEmpty()) recent_menu_->addAction(tr("(none)"))->setEnabled(false);
  recent_menu_->addSeparator();
  recent_menu_->addAction(tr("Clear"), this, [] { clearRecentFiles(); });
}

void MainWindow::openPaths(const QStringList& paths) {
  for (const QString& path : paths) {
    if (path.isEmpty()) continue;
    std::vector<std::string> files;
    try {
      files = analysis::expand_trace_paths({path.toStdString()});
    } catch (const std::exception& error) {
      showError(QString::fromStdString(error.what()));
      emit loadFailed(path, QString::fromStdString(error.what()));
      continue;
    }
    if (files.empty()) {
      const QString why = tr("%1: no memtide traces in this directory").arg(path);
      showError(why);
      emit loadFailed(path, why);
    }
    for (const std::string& file : files) queue_.push_back(QString::fromStdString(file));
  }
  if (!loader_.loading()) loadNext();
}

void MainWindow::loadNext() {
  if (queue_.empty()) {
    progress_->hide();
    cancel_->hide();
    return;
  }
  const QString path = queue_.front();
  queue_.pop_front();
  progress_->setValue(0);
  progress_->show();
  cancel_->show();
  loader_.load(path, options_);
}

void MainWindow::onLoaded(std::shared_ptr<const TraceOverview> overview) {
  auto* document = new TraceDocument(std::move(overview), this);
  addRecentFile(document->path());
  documents_.append(document);
  auto* item = new QListWidgetItem(document->displayName(), trace_list_);
  item->setToolTip(document->path());
  status_->setText(tr("Loaded %1").arg(document->path()));
  clearError();
  setCurrentDocument(document);
  emit documentOpened(document);
  loadNext();
}

void MainWindow::setCurrentDocument(TraceDocument* document) {
  if (document == current_) return;
  current_ = document;
  const int row = int(documents_.indexOf(document));
  if (trace_list_->currentRow() != row) trace_list_->setCurrentRow(row);
  setWindowTitle(document ? QStringLiteral("memtide - %1").arg(document->displayName())
                          : QStringLiteral("memtide"));
  refreshPages();
}

void MainWindow::closeCurrentDocument() {
  if (!current_) return;
  TraceDocument* closing = current_;
  const int row = int(documents_.indexOf(closing));
  documents_.removeAt(row);
  current_ = nullptr;
  delete trace_list_->takeItem(row);
  setCurrentDocument(
      documents_.isEmpty() ? nullptr : documents_[std::min<int>(row, int(documents_.size()) - 1)]);
  refreshPages();
  closing->deleteLater();
}

void MainWindow::refreshPages() {
  for (Page* page : pages_) page->setDocuments(documents_, current_);
}

Page* MainWindow::page(const QString& key) const {
  for (Page* p : pages_)
    if (p->key() == key) return p;
  return nullptr;
}

Page* MainWindow::currentPage() const {
  return qobject_cast<Page*>(tabs_->currentWidget());
}

void MainWindow::showPage(const QString& key) {
  if (Page* p = page(key)) tabs_->setCurrentWidget(p);
}

void MainWindow::openLink(const QUrl& link) {
  if (link.scheme() != QLatin1String("memtide")) return;
  const QUrlQuery query(link);
  if (link.host() == QLatin1String("open")) {
    openPaths({query.queryItemValue(QStringLiteral("path"), QUrl::FullyDecoded)});
    return;
  }
  if (link.host() == QLatin1String("trace")) {
    const QString path = query.queryItemValue(QStringLiteral("path"), QUrl::FullyDecoded);
    for (TraceDocument* document : documents_)
      if (document->path() == path) setCurrentDocument(document);
    return;
  }
  if (Page* p = page(link.host())) {
    tabs_->setCurrentWidget(p);
    p->reveal(query);
  }
}

QString MainWindow::exportCurrentView(const QString& path) {
  Page* p = currentPage();
  return exportWidget(p ? p->exportTarget() : nullptr, path);
}

void MainWindow::showError(const QString& message) {
  last_error_ = message;
  banner_->setText(message);
  banner_->show();
  status_->setText(message);
}

void MainWindow::clearError() {
  last_error_.clear();
  banner_->hide();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  QStringList paths;
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) paths << url.toLocalFile();
  openPaths(paths);
  event->acceptProposedAction();
}

}  // namespace memtide::gui
