// memtide-gui's window: the open traces in a list on the left, one tab per
// page on the right, loading progress (with Cancel) in the status bar, and
// errors in a banner above the pages (never a modal box, so a script or a
// test is never stuck on one).
#pragma once

#include <QList>
#include <QMainWindow>
#include <QStringList>
#include <deque>

#include "core/trace_loader.h"

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QMenu;

namespace memtide::gui {

class Page;
class TraceDocument;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(LoadOptions options = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens trace files; a directory opens every trace in it (a parent and
  // its children, or one per rank). Loads one after another.
  void openPaths(const QStringList& paths);

  const QList<TraceDocument*>& documents() const { return documents_; }
  TraceDocument* currentDocument() const { return current_; }
  void setCurrentDocument(TraceDocument* document);
  Page* page(const QString& key) const;
  Page* currentPage() const;
  void showPage(const QString& key);
  // Follows a memtide:// link (from the summary or any page).
  void openLink(const QUrl& link);
  // The error the banner shows; empty when none.
  QString lastError() const { return last_error_; }
  bool loading() const { return loader_.loading() || !queue_.empty(); }
  TraceLoader& loader() { return loader_; }
  const LoadOptions& loadOptions() const { return options_; }
  // Writes the current page to PNG or SVG (by suffix); returns an error or "".
  QString exportCurrentView(const QString& path);

 signals:
  // A document was added and shown (tests wait on it).
  void documentOpened(memtide::gui::TraceDocument* document);
  void loadFailed(const QString& path, const QString& error);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildMenus();
  void loadNext();
  void onLoaded(std::shared_ptr<const TraceOverview> overview);
  void showError(const QString& message);
  void clearError();
  void closeCurrentDocument();
  void refreshPages();
  void refreshRecentMenu();

  LoadOptions options_;
  TraceLoader loader_;
  std::deque<QString> queue_;
  QList<TraceDocument*> documents_;
  TraceDocument* current_ = nullptr;
  QList<Page*> pages_;
  QTabWidget* tabs_;
  QListWidget* trace_list_;
  QLabel* banner_;
  QProgressBar* progress_;
  QPushButton* cancel_;
  QLabel* status_;
  QMenu* recent_menu_ = nullptr;
  QString last_error_;
};

}  // namespace memtide::gui
